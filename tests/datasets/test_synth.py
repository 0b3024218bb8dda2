"""Physics and ground truth of the synthetic scans, and threat image projection."""
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.project import Project
from datasets.synth.build import make_scan, synth_project
from datasets.synth.objects import THREATS, drugs, firearm
from datasets.synth.physics import MATERIALS, REGIMES, Detector, render_counts
from datasets.synth.scenes import add_thing, build_scene
from datasets.synth.tip import project_threat
from tests.conftest import REPO


def test_overlapping_attenuations_add():
    rng = np.random.default_rng(0)
    kv = REGIMES["kv"]
    a, b = firearm(rng, 60, 60, 4.0, 0.3), drugs(rng, 70, 55, 4.0, 1.0)
    att_a = np.zeros((2, 128, 128), np.float32)
    att_b = att_a.copy()
    both = att_a.copy()
    add_thing(att_a, a, kv)
    add_thing(att_b, b, kv)
    add_thing(both, a, kv)
    add_thing(both, b, kv)
    overlap = (att_a[1] > 0) & (att_b[1] > 0)
    assert overlap.sum() > 50
    assert np.allclose(both, att_a + att_b, rtol=1e-6)
    # so transmissions multiply
    det = Detector(blur=False)
    def t(att):
        return (render_counts(att, det, None).astype(np.float64) - det.dark) / det.i0[0]
    assert np.allclose(t(both)[..., 0][overlap], (t(att_a) * t(att_b))[..., 0][overlap], atol=3 / det.i0[0] * 10)


@pytest.mark.parametrize("regime", ["kv", "mv"])
def test_transmission_is_monotone_in_thickness(regime):
    mu = REGIMES[regime].mu("steel")
    th = np.linspace(0, 5, 200, dtype=np.float32)
    att = np.stack([mu[0] * th, mu[1] * th])[:, None, :]
    counts = render_counts(att, Detector(blur=False), None)[0].astype(int)
    assert (np.diff(counts[:, 0]) <= 0).all() and (np.diff(counts[:, 1]) <= 0).all()
    assert counts[0, 0] > counts[-1, 0]


@pytest.mark.parametrize("regime", ["kv", "mv"])
def test_ratio_separates_organic_inorganic_metal(regime):
    r = {m: (REGIMES[regime].mu(m)[0] / REGIMES[regime].mu(m)[1]) for m in MATERIALS}
    def fam(f):
        return [r[m] for m in MATERIALS if MATERIALS[m] == f]
    org, ino, met = fam("organic"), fam("inorganic"), fam("metal")
    if regime == "kv":  # photo-electric: metal lowest R
        assert min(org) > max(ino) > max(met) and max(met) < 0.3
    else:  # pair production: metal highest R
        assert max(org) < max(met) and min(met) > max(org) + 0.05
    # and measured on noisy counts through 5 cm of drug vs 0.5 cm of steel
    rng = np.random.default_rng(1)
    det = Detector()
    for mat, t in (("drug", 5.0), ("steel", 0.5)):
        mu = REGIMES[regime].mu(mat)
        att = np.broadcast_to((mu * t)[:, None, None], (2, 64, 64)).astype(np.float32)
        c = render_counts(att, det, rng).astype(np.float64)
        a = -np.log((c - det.dark) / np.array(det.i0))
        measured = np.median(a[..., 0] / a[..., 1])
        assert abs(measured - mu[0] / mu[1]) < 0.03


def test_masks_are_exactly_the_visible_difference():
    rng = np.random.default_rng(7)
    scene = build_scene("baggage", rng, (256, 320), list(THREATS), "mixed", threat_rate=1.0, lookalike_rate=1.0)
    att = scene.attenuation()
    with_all = scene.render(None, att)  # noiseless, same detector
    det = Detector(i0=scene.detector.i0, dark=scene.detector.dark, blur=False)
    threats = [k for k, th in enumerate(scene.things) if th.is_threat]
    assert threats
    for k in threats:
        vis, x, y = scene.visible_mask(k, att)
        a = render_counts(att, det, None).astype(int)
        b = render_counts(scene.attenuation(skip=k), det, None).astype(int)
        diff = (np.abs(a - b) >= 1).any(axis=-1)
        full = np.zeros(diff.shape, bool)
        full[y:y + vis.shape[0], x:x + vis.shape[1]] = vis
        assert np.array_equal(full, diff), k
    assert with_all.dtype == np.uint16


def test_synth_project_is_complete_and_deterministic(tmp_path):
    out = synth_project(tmp_path / "a", "baggage", 4, seed=3, size=(192, 256), unlabelled=1)
    synth_project(tmp_path / "b", "baggage", 4, seed=3, size=(192, 256), unlabelled=1)
    ha = [hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((tmp_path / "a" / "images").iterdir())]
    hb = [hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((tmp_path / "b" / "images").iterdir())]
    assert ha == hb and len(ha) == 4
    with Project.open(out) as p:
        ims = p.images()
        assert [im.status for im in ims] == ["done"] * 3 + ["new"]
        assert all(im.split for im in ims) and all(im.layout == "dual" and im.bit_depth == 16 for im in ims)
        truth = json.loads((out / "synth.json").read_text())["scans"]
        for im in ims[:3]:
            regs = p.store.regions(im.id)
            assert sorted(p.taxonomy.by_id(r.class_id).name for r in regs) == sorted(truth[im.path]["objects"])
            assert all(r.source == "synthetic" and r.kind == "mask" for r in regs)
            assert ("contraband" in im.tags) == bool(truth[im.path]["contraband"])
        assert p.store.regions(ims[3].id) == []
        scan = p.read_scan(ims[0])
        assert scan.meta["regime"] == "kv" and scan.pixels.dtype == np.uint16 and scan.pixels.shape == (192, 256, 2)


def test_cargo_is_long_and_mv(tmp_path):
    s = make_scan("cargo", 1, 0, (128, 512), list(THREATS))
    assert s.counts.shape == (128, 512, 2) and s.meta["regime"] == "mv"


def test_undeclared_share_marks_manifest_gaps():
    scans = [make_scan("parcel", 5, i, (96, 128), list(THREATS), undeclared=1.0) for i in range(6)]
    for s in scans:
        if s.truth["goods"]:
            assert s.truth["undeclared_goods"] and s.truth["undeclared_goods"][0] not in s.manifest
            assert "undeclared_goods" in s.tags


def test_clean_share_sets_the_base_rate():
    """--clean: the share of scans drawn without contraband (a port's traffic is mostly clean)."""
    def with_contraband(clean):
        return sum(bool(make_scan("parcel", 9, i, (96, 128), list(THREATS), clean=clean).truth["contraband"])
                   for i in range(40))
    assert with_contraband(1.0) == 0
    assert with_contraband(0.0) >= 36  # a threat mostly hidden may be taken out of the scene
    assert 1 <= with_contraband(0.9) <= 10


@pytest.mark.parametrize("args,msg", [
    (["--kind", "submarine"], "unknown kind"),
    (["--clean", "1.5"], "--clean must be a share"),
    (["--count", "0"], "at least 1"),
    (["--size", "10x10"], "too small"),
    (["--classes", "firearm,unicorn"], "unknown class"),
    (["--occlusion", "total"], "unknown occlusion"),
])
def test_bad_synth_input_writes_nothing(tmp_path, args, msg):
    r = subprocess.run([sys.executable, "-m", "workbench.cli", "synth", str(tmp_path / "out"), *args], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_existing_nonempty_out_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(XwbError, match="not empty"):
        synth_project(tmp_path / "out", "parcel", 1)
    assert [f.name for f in (tmp_path / "out").iterdir()] == ["keep.txt"]


def _air(shape, det):
    return np.broadcast_to(np.array([det.i0[0] + det.dark, det.i0[1] + det.dark], np.uint16), shape + (2,)).copy()


def _threat_in_air(maker, seed, size, x, y, scale, angle):
    """Noiseless counts of one threat alone in air, and its footprint."""
    det = Detector(blur=False)
    th = maker(np.random.default_rng(seed), x, y, scale, angle)
    att = np.zeros((2, size, size), np.float32)
    add_thing(att, th, REGIMES["kv"])
    return det, render_counts(att, det, None), att[1] > 0


def test_tip_into_air_reproduces_the_threat_attenuation():
    det, src, mask = _threat_in_air(firearm, 4, 160, 80, 70, 3.0, 0.6)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = max(0, ys.min() - 4), ys.max() + 5, max(0, xs.min() - 4), xs.max() + 5
    meta = det.meta()
    out, omask = project_threat(src, mask, _air((160, 160), det), (x0 + x1) / 2, (y0 + y1) / 2,
                                src_meta=meta, dst_meta=meta)
    assert np.array_equal(omask, mask)
    ok = (src.astype(np.float64) - det.dark >= 50).all(axis=-1)  # not saturated: attenuation is measurable
    assert ok[mask].mean() > 0.2
    a_out = -np.log((out[ok].astype(np.float64) - det.dark) / np.array(det.i0))
    a_src = -np.log((src[ok].astype(np.float64) - det.dark) / np.array(det.i0))
    assert np.abs(a_out - a_src).max() < 0.02  # 16-bit quantisation only (1 count in 50 at worst)
    assert np.array_equal(out[~mask], src[~mask])


def test_tip_multiplies_transmission_and_keeps_ratio():
    det, src, mask = _threat_in_air(drugs, 5, 100, 50, 50, 2.0, 0.0)
    # destination: a uniform slab of steel
    mu = REGIMES["kv"].mu("steel") * 0.2
    dst = render_counts(np.broadcast_to(mu[:, None, None], (2, 200, 200)).astype(np.float32), det, None)
    out, omask = project_threat(src, mask, dst, 100, 100, scale=1.5, angle_deg=30, density=1.0,
                                src_meta=det.meta(), dst_meta=det.meta())
    assert omask.sum() > 1.8 * mask.sum()
    a = -np.log((out.astype(np.float64) - det.dark) / np.array(det.i0))
    added = a[omask] - mu.astype(np.float64)
    inner = added[:, 1] > 0.5 * added[:, 1].max()
    r = np.median(added[inner, 0] / added[inner, 1])
    drug = REGIMES["kv"].mu("drug")
    assert abs(r - drug[0] / drug[1]) < 0.02
    assert (out[~omask] == dst[~omask]).all()
