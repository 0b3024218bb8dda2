"""`xwb train` end to end on a synthetic project, checked through MlflowClient."""
from pathlib import Path

import numpy as np
import pytest

from datasets.digest import snapshot_digest
from datasets.project import Project
from datasets.scanio import read_scan
from tests.training.conftest import CLS_TINY, TINY, client_for, xwb
from training.versions.tracking import default_uri


def _artifacts(client, run_id, path=""):
    out = []
    for a in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, a.path) if a.is_dir else [a.path]
    return out


def test_tiny_seg_run_is_tracked_registered_and_loads(synth):
    r = xwb("train", str(TINY), "--project", str(synth), fresh=True)  # the console entry point, for real
    assert r.returncode == 0, r.stderr
    assert "epoch 2/2" in r.stderr and "registered bag-seg version 1" in r.stderr

    c = client_for(synth)
    exp = c.get_experiment_by_name("bag/seg")
    assert exp is not None
    (run,) = c.search_runs([exp.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["model.arch"] == "Unet" and run.data.params["data.tile"] == "96"
    hist = c.get_metric_history(run.info.run_id, "val_mIoU")
    assert [m.step for m in hist] == [0, 1]
    assert {"train_loss", "lr", "images_per_s", "best_val_mIoU"} <= set(run.data.metrics)
    with Project.open(synth, readonly=True) as p:
        digest = snapshot_digest(p)
    assert run.data.tags["xwb.dataset_digest"] == digest
    assert run.data.tags["xwb.device"] == "cpu" and "xwb.host" in run.data.tags
    inputs = run.inputs.dataset_inputs
    assert {i.dataset.name for i in inputs} == {"bag-train", "bag-val"}
    for i in inputs:
        tags = {t.key: t.value for t in i.tags}
        assert tags["xwb.dataset_digest"] == digest and int(tags["xwb.images"]) > 0
    arts = _artifacts(c, run.info.run_id)
    for want in ("config/config.yaml", "evaluation/val/per_class.csv", "evaluation/val/metrics.json",
                 "evaluation/val/roc_pr.png", "evaluation/val/confusion.png"):
        assert want in arts
    assert sum(a.startswith("evaluation/val/overlays/") for a in arts) == 2

    mv = c.get_model_version("bag-seg", "1")
    assert mv.run_id == run.info.run_id
    assert mv.tags["dataset_digest"] == digest and "val_mIoU" in mv.tags

    from training.inference.predict import load_predictor

    pred = load_predictor("models:/bag-seg/1", tracking_uri=default_uri(synth))
    scan = read_scan(synth / "images" / "baggage_1_00000.tiff")
    out = pred.predict_scan(scan)
    assert out.probs.shape == (11, 192, 256)
    np.testing.assert_allclose(out.probs.sum(0), 1.0, atol=1e-4)
    # any scan size through the pyfunc face, two scans per batch, no unpickling involved
    import mlflow

    from training.versions.tracking import using

    with using(default_uri(synth)):
        m = mlflow.pyfunc.load_model("models:/bag-seg/1")
    x = np.moveaxis(scan.pixels[:100, :150].astype(np.float32), -1, 0)[None].repeat(2, axis=0)
    y = m.predict(x, params={"i0": list(scan.meta["i0"]), "dark": float(scan.meta.get("dark", 0))})
    assert y.shape == (2, 11, 100, 150)
    files = {p.name for p in (synth / "mlflow" / "artifacts").rglob("*") if p.is_file()}
    assert "weights.safetensors" in files and "spec.json" in files
    assert not any(f.endswith((".pkl", ".pickle")) for f in files)


def test_tiny_cls_run_in_process(synth):
    from training.loop.run import train

    r = train(CLS_TINY, synth, ["model.pool=max"], quiet=True)  # the default avg pool trains in other tests
    assert r.version == "1" and r.registered_model == "bag-cls"
    c = client_for(synth)
    run = c.get_run(r.run_id)
    assert run.info.status == "FINISHED"
    assert "val_mAP" in run.data.metrics and "val_mPd_pfa5" in run.data.metrics
    from training.inference.predict import load_predictor

    pred = load_predictor(f"models:/bag-cls/{r.version}", tracking_uri=default_uri(synth))
    out = pred.predict_scan(read_scan(synth / "images" / "baggage_1_00003.tiff"))
    assert out.probs.shape == (len(pred.classes),) and set(out.scores) == set(pred.classes)
    assert "weapon" in pred.classes
    # max pooling (multiple-instance style) travels with the version and rebuilds the same network
    assert pred.spec["model"]["pool"] == "max"
    pools = [m for m in pred.net.modules() if type(m).__name__ == "SelectAdaptivePool2d"]
    assert pools and all(m.pool_type == "max" for m in pools)


def test_second_run_makes_a_second_version_in_the_same_experiment(synth):
    from training.loop.run import train

    a = train(TINY, synth, ["optim.epochs=1", "eval.overlays=0"], quiet=True)
    b = train(TINY, synth, ["optim.epochs=3", "eval.overlays=0", "model.arch=FPN", "eval.val_every=2",
                            "runtime.cpu_bf16=true"], quiet=True)
    assert (a.version, b.version) == ("1", "2")
    c = client_for(synth)
    # validation every 2nd epoch and after the last; every epoch says where its time went
    assert [m.step for m in c.get_metric_history(b.run_id, "val_mIoU")] == [1, 2]
    for k in ("epoch_train_s", "epoch_val_s", "epoch_save_s"):
        assert [m.step for m in c.get_metric_history(b.run_id, k)] == [0, 1, 2]
    val_s = {m.step: m.value for m in c.get_metric_history(b.run_id, "epoch_val_s")}
    assert val_s[0] < val_s[1]  # the epoch without validation spent (almost) nothing on it
    assert c.get_run(a.run_id).info.experiment_id == c.get_run(b.run_id).info.experiment_id
    assert c.get_run(b.run_id).data.params["model.arch"] == "FPN"
    from training.loop.trainer import cpu_has_bf16

    # bf16 mixed precision where the CPU has it (this one: AMX), said in the run; v1 stayed float32
    assert c.get_run(b.run_id).data.tags["xwb.precision"] == ("bf16-mixed" if cpu_has_bf16() else "fp32")
    assert c.get_run(a.run_id).data.tags["xwb.precision"] == "fp32"
    assert all(np.isfinite(m.value) for m in c.get_metric_history(b.run_id, "train_loss"))


@pytest.mark.parametrize("channels", [["high"], ["high", "low"], ["high", "low", "diff"]])
def test_input_channels_follow_the_config(synth, channels):
    from training.loop.run import train

    r = train(TINY, synth, ["optim.epochs=1", "eval.overlays=0", "mlflow.register_model=false",
                            f"data.channels={channels}".replace("'", "")], quiet=True)
    assert r.version is None
    import json

    c = client_for(synth)
    spec = json.loads(Path(c.download_artifacts(r.run_id, "config/spec.json")).read_text())
    assert spec["preprocess"]["channels"] == channels
    assert len(spec["preprocess"]["mean"]) == len(channels)
