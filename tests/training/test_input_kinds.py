"""Projects of pseudo-colour pictures and of single-energy grey scans train, evaluate and compare; a model
refuses scans unlike the ones it was trained on (issue 12)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from datasets.errors import XwbError
from datasets.project import Project
from datasets.scanio import read_scan
from tests.conftest import region_total
from tests.training.conftest import TINY, client_for, make_synth
from training.versions.tracking import default_uri

FAST = ["optim.epochs=1", "eval.overlays=0"]


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    """One project per render, each with two registered seg versions."""
    from training.loop.run import train

    out = {}
    for render in ("pseudo-colour", "single-energy"):
        folder = tmp_path_factory.mktemp(render) / ("pc" if render == "pseudo-colour" else "se")
        from datasets.synth.build import synth_project

        synth_project(folder, "baggage", 12, seed=2, size=(160, 224), render=render)
        a = train(TINY, folder, FAST, quiet=True)
        b = train(TINY, folder, FAST + ["model.arch=FPN"], quiet=True)
        out[render] = (folder, a, b)
    return out


@pytest.mark.parametrize("render,layout,bits,channels", [
    ("pseudo-colour", "rgb", 8, ["red", "green", "blue"]),
    ("single-energy", "gray", 16, ["high"]),
])
def test_project_trains_evaluates_and_compares(kinds, render, layout, bits, channels):
    from training.evaluation.compare import compare

    folder, a, b = kinds[render]
    assert (a.version, b.version) == ("1", "2")
    spec = json.loads(Path(client_for(folder).download_artifacts(a.run_id, "config/spec.json")).read_text())
    assert spec["input"] == {"layout": layout, "bit_depth": bits, "i0": "full scale of the bit depth"}
    assert spec["preprocess"]["channels"] == channels
    name = f"{folder.name}-seg"
    c = compare(name, folder, ["1", "2"], quiet=True)
    assert [r["version"] for r in c.rows] == ["1", "2"]
    assert all(0 <= r["mIoU"] <= 1 for r in c.rows)


def test_a_model_refuses_scans_unlike_its_training_scans(kinds):
    from training.inference.predict import load_predictor

    pc, _, _ = kinds["pseudo-colour"]
    se, _, _ = kinds["single-energy"]
    colour = load_predictor("models:/pc-seg/1", tracking_uri=default_uri(pc))
    grey = load_predictor("models:/se-seg/1", tracking_uri=default_uri(se))
    png = sorted((pc / "images").glob("*.png"))[0]
    tif = sorted((se / "images").glob("*.tiff"))[0]
    assert colour.predict_scan(read_scan(png)).probs.shape[1:] == (160, 224)
    with pytest.raises(XwbError) as e:
        colour.predict_scan(read_scan(tif))
    assert str(e.value) == (f"{tif}: model models:/pc-seg/1 was trained on 8-bit pseudo-colour (RGB) scans; "
                            f"this scan is 16-bit single-energy grey")
    with pytest.raises(XwbError, match="trained on 16-bit single-energy grey scans; this scan is 8-bit pseudo-colour"):
        grey.predict_scan(read_scan(png))


def test_single_energy_model_takes_the_high_channel_of_a_dual_scan(kinds, tmp_path):
    from training.inference.predict import load_predictor

    se, _, _ = kinds["single-energy"]
    grey = load_predictor("models:/se-seg/1", tracking_uri=default_uri(se))
    dual = make_synth(tmp_path / "dual", count=1, size=(128, 160))
    scan = read_scan(sorted((dual / "images").glob("*.tiff"))[0])
    assert grey.check(scan.info.layout, scan.info.bit_depth, "x") == "its high-energy channel used"
    assert grey.predict_scan(scan).probs.shape[1:] == (128, 160)


def test_evaluate_refuses_a_split_with_scans_unlike_the_training_scans(kinds, tmp_path):
    """Evaluation is all or nothing: a half-valid report would mislead a reviewer."""
    from training.evaluation.review import evaluate

    pc, _, _ = kinds["pseudo-colour"]
    other = make_synth(tmp_path / "dual", count=6, size=(128, 160))
    with pytest.raises(XwbError, match="trained on 8-bit pseudo-colour"):
        evaluate("models:/pc-seg/1", other, "test", tracking_uri=default_uri(pc), quiet=True)


def test_prelabel_and_predict_skip_mismatched_scans_and_go_on(kinds, tmp_path, capsys):
    from training.inference.outputs import predict_files, prelabel

    pc, _, _ = kinds["pseudo-colour"]
    se, _, _ = kinds["single-energy"]
    png = sorted((pc / "images").glob("*.png"))[:2]
    tif = sorted((se / "images").glob("*.tiff"))[0]
    s = predict_files("models:/pc-seg/1", [str(png[0]), str(tif), str(png[1])], tmp_path / "out",
                      tracking_uri=default_uri(pc))
    assert s.failed == [str(tif)] and len(s.written) == 2 * 3  # labels, overlay, json per used scan
    assert "trained on 8-bit pseudo-colour (RGB) scans; this scan is 16-bit single-energy grey" in capsys.readouterr().err
    # a dual-energy project pre-labelled with the colour model: every scan skipped, nothing written, no traceback
    dual = make_synth(tmp_path / "dual", count=3, size=(128, 160), seed=5)
    with Project.open(dual) as p:
        before = region_total(p.store)
    counts = prelabel("models:/pc-seg/1", dual, status=None, tracking_uri=default_uri(pc), quiet=True)
    assert counts["failed"] == 3 and counts["scans"] == 0
    with Project.open(dual) as p:
        assert region_total(p.store) == before


def test_manifest_check_skips_scans_unlike_the_training_scans(kinds, tmp_path):
    """The demo champion used to flag 31 of 31 pseudo-colour scans; now none is judged, each is named."""
    from training.inference.outputs import manifest_check

    pc, _, _ = kinds["pseudo-colour"]
    dual = make_synth(tmp_path / "dual", count=3, size=(128, 160), seed=6)
    s = manifest_check("models:/pc-seg/1", dual, tracking_uri=default_uri(pc), quiet=True)
    assert s["failed"] == 3 and s["scans"] == 0 and s["flagged"] == 0


def test_a_scan_without_scanner_facts_uses_the_models_own_i0(kinds):
    """Without I0 in the file, the model's default (what its training scans had) is used, not 65535."""
    import numpy as np

    from training.inference.predict import load_predictor

    se, _, _ = kinds["single-energy"]
    grey = load_predictor("models:/se-seg/1", tracking_uri=default_uri(se))
    scan = read_scan(sorted((se / "images").glob("*.tiff"))[0])
    assert not scan.meta
    assert grey.spec["preprocess"]["default_i0"] == [65535.0]  # the full scale of the 16-bit training scans
    grey.spec["preprocess"]["default_i0"] = [30000.0]
    p = grey.predict_scan(scan).probs
    assert np.allclose(p, grey.predict_counts(scan.pixels, [30000.0], 0.0).probs)
    assert not np.allclose(p, grey.predict_counts(scan.pixels, [65535.0], 0.0).probs)


def test_predict_scan_takes_a_path_or_a_bare_array_with_stated_defaults(kinds):
    import numpy as np

    from training.inference.predict import load_predictor

    se, _, _ = kinds["single-energy"]
    grey = load_predictor("models:/se-seg/1", tracking_uri=default_uri(se))
    f = sorted((se / "images").glob("*.tiff"))[0]
    by_scan = grey.predict_scan(read_scan(f)).probs
    assert np.allclose(grey.predict_scan(f).probs, by_scan)
    assert np.allclose(grey.predict_scan(np.array(read_scan(f).pixels)).probs, by_scan)
    p = grey.predict_scan(np.array(read_scan(f).pixels))
    assert p.probs.shape[0] == len(grey.classes) + 1 and np.allclose(p.probs.sum(0), 1, atol=1e-4)  # bg first
    assert grey.threshold == 0.5
    with pytest.raises(XwbError, match="unsigned counts"):
        grey.predict_scan(np.zeros((64, 64), np.float32))
    with pytest.raises(XwbError, match=r"\(H, W\), \(H, W, 2\) or \(H, W, 3\)"):
        grey.predict_scan(np.zeros((4, 64, 64), np.uint16))
    with pytest.raises(XwbError, match="trained on 16-bit single-energy grey scans; this scan is 8-bit"):
        grey.predict_scan(np.zeros((64, 64), np.uint8))
