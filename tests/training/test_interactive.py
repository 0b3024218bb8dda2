"""Click-to-segment (task interactive), a task added as one module: trained from a project's regions,
validated by clicks to an IoU, registered as <project>-click, and used through the workbench's backend."""
import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.project import Project
from tests.conftest import REPO
from tests.training.conftest import client_for, make_synth, xwb

CLICK_TINY = REPO / "configs" / "click_tiny.yaml"


@pytest.fixture(scope="module")
def clicked(tmp_path_factory):
    proj = make_synth(tmp_path_factory.mktemp("clk") / "clk", count=12, seed=5, size=(192, 256))
    r = xwb("train", str(CLICK_TINY), "--project", str(proj))
    assert r.returncode == 0, r.stderr
    return proj, r


def test_trains_validates_by_clicks_and_registers_as_click(clicked):
    proj, r = clicked
    assert "registered clk-click version 1" in r.stderr and "val_mIoU_c3" in r.stderr
    c = client_for(proj)
    (run,) = c.search_runs([c.get_experiment_by_name("clk/interactive").experiment_id])
    m = run.data.metrics
    assert {"val_mIoU_c1", "val_mIoU_c3", "val_NoC85", "val_NoC90", "best_val_NoC85"} <= set(m)
    assert 1 <= m["val_NoC85"] <= 20 and 0 <= m["val_mIoU_c1"] <= 1
    assert not any(k.startswith("val_mPd") for k in m)  # a click model raises no alarms by itself
    assert [str(v.version) for v in c.search_model_versions("name='clk-click'")] == ["1"]


def test_the_registered_model_segments_under_clicks_in_a_fresh_process(clicked):
    """Through the workbench's backend (Qt-free): the version loads, checks the scan, answers a window."""
    from datasets.scanio import read_scan
    from workbench.assist.interactive import ClickSession
    from workbench.assist.signal import ScanSignal
    from workbench.click_model import ModelBackend

    proj, _ = clicked
    backend = ModelBackend(proj, "clk")
    assert backend.source == "model:clk-click/1"
    with Project.open(proj, readonly=True) as p:
        rec = p.store.images()[0]
        scan = read_scan(p.image_path(rec))
    sig = ScanSignal.of_scan(scan)
    prob = backend.probabilities(sig, (10, 20, 170, 150), [(80, 60, True), (5, 5, False)])
    assert prob.shape == (130, 160) and prob.dtype == np.float32 and 0 <= prob.min() <= prob.max() <= 1
    s = ClickSession(sig, backend, size=128)
    s.add(100, 90, True)
    assert s.box is not None and s.seconds > 0 and len(s.clicks) == 1


def test_batch_commands_refuse_a_click_model_and_reviews_count_clicks(clicked):
    from training.inference.outputs import predict_files
    from training.versions.tracking import default_uri

    proj, _ = clicked
    scan = next((proj / "images").iterdir())
    with pytest.raises(XwbError, match="needs an annotator's clicks: use it in the workbench"):
        predict_files("models:/clk-click/1", [str(scan)], proj / "out", tracking_uri=default_uri(proj))
    assert not (proj / "out").exists() or not any((proj / "out").iterdir())  # refused before any scan
    r = xwb("compare", "clk-click", "--project", str(proj), "--split", "val")
    assert r.returncode == 0, r.stderr
    assert "NoC85" in r.stdout and "mIoU_c1" in r.stdout
    report = next((proj / "reports").glob("compare-clk-click-val-*/report.html")).read_text()
    assert "NoC85" in report and "<h2>ROC</h2>" not in report and "clicks of a scripted annotator" in report


def test_a_click_recipe_names_its_loss_for_its_task():
    from training.recipes.config import parse_config

    with pytest.raises(XwbError, match=r"loss.name: dice_ce is for task seg, seg3d; task interactive uses bce_dice"):
        parse_config({"task": "interactive", "loss": {"name": "dice_ce"}}, "r.yaml")


def test_predictor_refuses_clicks_for_a_model_of_another_task():
    import torch

    from training.inference.predict import Predictor

    spec = {"task": "seg", "classes": ["a"], "preprocess": {"raw_channels": 1}}
    with pytest.raises(XwbError, match="is a seg model, not a click-to-segment one"):
        Predictor(torch.nn.Identity(), spec).click_probs(np.zeros((8, 8), np.uint16), [(1, 1, True)])
