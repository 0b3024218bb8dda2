"""Task seg3d: a 3-D U-Net on CT volumes, its objects written as 3-D proposals and accepted in the workbench."""
from __future__ import annotations

import numpy as np
import pytest

from datasets.project import Project
from tests.conftest import REPO
from tests.training.conftest import xwb

TINY = REPO / "configs" / "seg3d_tiny.yaml"


@pytest.fixture(scope="module")
def seg3d(tmp_path_factory):
    """Six CT bags (32x40x48 voxels), the last two unlabelled, and a tiny seg3d version trained on them."""
    from training.loop.run import train

    folder = tmp_path_factory.mktemp("seg3d") / "bags"
    r = xwb("synth", str(folder), "--kind", "ct-baggage", "--count", "6", "--size", "32x40x48", "--unlabelled", "2")
    assert r.returncode == 0, r.stderr
    res = train(TINY, folder, overrides=["optim.epochs=1", "data.val_max_images=1"], quiet=True)
    return folder, res


def test_a_seg3d_version_segments_whole_volumes_by_cubes(seg3d):
    from training.inference.predict import load_predictor
    from training.versions.tracking import default_uri

    folder, res = seg3d
    assert res.registered_model == "bags-seg3d" and 0 <= res.metrics["best_val_mIoU"] <= 1
    pred = load_predictor("models:/bags-seg3d/1", "cpu", default_uri(folder))
    assert pred.spec["volume_tile"] == 32 and pred.spec["preprocess"]["channels"] == ["high", "soft"]
    with Project.open(folder, readonly=True) as p:
        rec = p.store.images()[0]
        out = pred.predict_scan(p.image_path(rec))
    assert out.probs.shape == (len(pred.classes) + 1, 32, 40, 48)  # every voxel, larger than one cube
    assert np.allclose(out.probs.sum(0), 1.0, atol=1e-4)
    r = xwb("evaluate", "models:/bags-seg3d/1", "--project", str(folder), "--split", "val")
    assert r.returncode == 0, r.stderr
    assert "mIoU" in r.stdout


def test_prelabel_writes_3d_proposals_that_the_volume_workbench_accepts(seg3d, qtbot):
    from PySide6.QtCore import Qt

    from workbench.main_window import MainWindow

    folder, _ = seg3d
    with Project.open(folder, readonly=True) as p:
        new = [rec for rec in p.store.images() if rec.status == "new"]
    assert len(new) == 2
    # the command line on one unlabelled bag, the Models panel of the workbench on the other
    r = xwb("prelabel", "models:/bags-seg3d/1", "--project", str(folder), "--images", str(new[1].id),
            "--min-score", "0", "--min-area", "1")
    assert r.returncode == 0, r.stderr
    w_ = MainWindow(folder, "tester")
    qtbot.addWidget(w_)
    w_.resize(1300, 850)
    w_.show()
    with qtbot.waitSignal(w_.models.versions_loaded, timeout=60_000):
        w_.show_models()
    w_.open_image(new[0].id)
    qtbot.waitUntil(lambda: w_.volumes.active and w_.volumes.view.image.id == new[0].id)
    w_.models.min_score.setValue(0.0)
    with qtbot.waitSignal(w_.models.job_done, timeout=120_000) as sig:
        qtbot.mouseClick(w_.models.prelabel_scan, Qt.MouseButton.LeftButton)
    assert sig.args[0] == "prelabel" and sig.args[1]["scans"] == 1
    with Project.open(folder, readonly=True) as p:
        props = p.store.regions(new[0].id, state="proposal")
        depth, h, w = new[0].depth, new[0].height, new[0].width
        assert p.store.regions(new[1].id, state="proposal")  # the command line's
    assert props and all(q.voxels is not None and q.source == "model:bags-seg3d/1" for q in props)
    for q in props:
        x0, y0, z0, x1, y1, z1 = q.bbox3d()
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h and 0 <= z0 < z1 <= depth
    qtbot.waitUntil(lambda: len([r for r in w_.volumes.view.regions if r.state == "proposal"]) == len(props))
    w_.volumes.view.accept_button.click()
    with Project.open(folder, readonly=True) as p:
        after = p.store.regions(new[0].id)
    assert [r.state for r in after] == ["accepted"] * len(props)
    assert {r.decided_by for r in after} == {"tester"} and {r.source for r in after} == {"model:bags-seg3d/1"}
    w_.close()
