"""The declared-material check: dual-energy physics against the manifest, no model (issue 16)."""
import subprocess
import sys

import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.material_check import material_check
from datasets.materials import MATERIALS, calibrate, declared_materials, material_mix, undeclared_materials
from datasets.synth.build import make_scan, synth_project
from datasets.synth.objects import THREATS
from tests.conftest import REPO


def _cargo(goods_wanted: str):
    for i in range(200):
        s = make_scan("cargo", 3, i, (128, 512), list(THREATS), undeclared=0.0, clean=1.0)
        if s.truth["goods"] == [goods_wanted]:
            return s
    raise AssertionError(f"no cargo of {goods_wanted} only")


def test_mix_reads_the_material_of_the_goods():
    steel, cloth = _cargo("machinery"), _cargo("textiles")
    m_steel, m_cloth = material_mix(steel.counts, steel.meta), material_mix(cloth.counts, cloth.meta)
    assert m_steel.sum() == pytest.approx(1) and m_cloth.sum() == pytest.approx(1)
    metal = MATERIALS.index("metal")
    assert m_steel[metal] > 0.6 > 0.3 > m_cloth[metal]  # the container's own walls are metal in both
    with pytest.raises(XwbError, match="dual-energy"):
        material_mix(cloth.counts[..., 0], cloth.meta, where="x.tiff")
    with pytest.raises(XwbError, match="x.tiff.*regime"):
        material_mix(cloth.counts, {}, where="x.tiff")


def test_thresholds_come_from_complete_manifests():
    mixes = [np.array([0.8, 0.02 + 0.001 * k, 0.18]) for k in range(40)]
    cal = calibrate(mixes, [{"organic"}] * 40, pfa=0.05)
    assert cal.thresholds["organic"] is None and cal.references["organic"] == 0  # always declared: not checked
    assert cal.thresholds["inorganic"] == pytest.approx(0.02 + 0.001 * 38)  # at most 5 % of 40 exceed it
    assert undeclared_materials(np.array([0.5, 0.2, 0.3]), {"organic"}, cal) == ["inorganic", "metal"]
    assert undeclared_materials(np.array([0.5, 0.2, 0.3]), {"organic", "metal", "inorganic"}, cal) == []
    assert declared_materials(["Textiles", "rocket"]) == ({"organic"}, ["rocket"])


def test_check_beats_flagging_blind(tmp_path):
    ref = synth_project(tmp_path / "ref", "cargo", 150, seed=23, size=(128, 512), clean=0.9, undeclared=0.1)
    test = synth_project(tmp_path / "test", "cargo", 100, seed=24, size=(128, 512), clean=0.9, undeclared=0.3)
    s = material_check(test, reference=ref, quiet=True)
    assert s["scans"] == 100 and s["failed"] == 0 and s["flagged"] > 0
    assert s["precision"] > 1.5 * s["baselines"]["flag_everything"]["precision"]
    assert s["recall"] > 1.5 * s["baselines"]["random_same_rate"]["recall"]
    rows = (tmp_path / "test" / "reports" / "material-check.csv").read_text().splitlines()
    assert rows[0].startswith("scan,manifest,organic,inorganic,metal,undeclared_materials") and len(rows) == 101


def test_cli_refuses_single_energy_scans_in_one_line(tmp_path):
    synth_project(tmp_path / "grey", "cargo", 12, seed=1, size=(128, 512), render="single-energy")
    r = subprocess.run([sys.executable, "-m", "workbench.cli", "material-check", str(tmp_path / "grey")], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("xwb material-check: error:") and "no labelled train/val scans" in last
    assert "dual-energy" in r.stderr and "Traceback" not in r.stderr
