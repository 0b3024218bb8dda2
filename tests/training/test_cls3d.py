"""Task cls3d: tags of CT volumes from a 3-D network, trained, registered, evaluated, compared, predicted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.project import Project
from tests.conftest import REPO
from tests.training.conftest import xwb

TINY3D = REPO / "configs" / "cls3d_tiny.yaml"


@pytest.fixture(scope="module")
def ct_trained(tmp_path_factory):
    """A 10-bag CT project (32x32x48 voxels) with two registered cls3d versions (seeds 0 and 1)."""
    from training.loop.run import train

    folder = tmp_path_factory.mktemp("ct3d") / "bags"
    assert xwb("synth", str(folder), "--kind", "ct-baggage", "--count", "10", "--size", "32x32x48").returncode == 0
    first = train(TINY3D, folder, quiet=True)
    second = train(TINY3D, folder, overrides=["runtime.seed=1", "optim.epochs=1"], quiet=True)
    return folder, first, second


def test_a_cls3d_version_records_that_it_reads_ct_volumes(ct_trained):
    from training.inference.predict import load_predictor
    from training.versions.tracking import default_uri

    folder, first, second = ct_trained
    assert (first.registered_model, first.version, second.version) == ("bags-cls3d", "1", "2")
    assert 0.0 <= first.metrics["best_val_mAP"] <= 1.0
    pred = load_predictor("models:/bags-cls3d/1", "cpu", default_uri(folder))
    spec = pred.spec
    assert spec["task"] == "cls3d" and spec["input"] == {"layout": "gray", "bit_depth": 16, "volume": True}
    assert spec["preprocess"]["kind"] == "ct" and spec["preprocess"]["rescale"] == [1.0, -1024.0]
    assert spec["volume_size"] == 32 and spec["model"] == {"arch": "monai", "encoder": "resnet10", "dropout": 0.0,
                                                           "width": 8}
    # the same volume, as a path and as its stored values, gives the same answer; tags are probabilities
    with Project.open(folder, readonly=True) as p:
        rec = p.store.images()[0]
        path = p.image_path(rec)
        vol = p.read_scan(rec).voxels()
    a = pred.predict_scan(path)
    b = pred.predict_counts(np.asarray(vol), rescale=(1.0, -1024.0))
    assert a.probs.shape == (len(pred.classes),) and np.allclose(a.probs, b.probs, atol=1e-6)
    assert set(a.scores) == set(pred.classes) and all(0 <= s <= 1 for s in a.scores.values())
    # another rescale is another volume: the model reads what the file says
    c = pred.predict_counts(np.asarray(vol), rescale=(1.0, 0.0))
    assert not np.allclose(a.probs, c.probs)


def test_the_logged_model_answers_through_mlflow_with_the_volume_signature(ct_trained):
    import mlflow

    from training.versions.tracking import default_uri, using

    folder, _, _ = ct_trained
    with using(default_uri(folder)):
        m = mlflow.pyfunc.load_model("models:/bags-cls3d/1")
    x = np.full((2, 1, 20, 24, 28), 1024, np.float32)  # two water cubes of any size
    out = m.predict(x, params={"rescale": [1.0, -1024.0]})
    assert out.shape == (2, len(m.unwrap_python_model().spec["classes"]))
    assert np.allclose(out[0], out[1])


def test_cls3d_versions_evaluate_and_compare_with_intervals(ct_trained):
    folder, _, _ = ct_trained
    r = xwb("evaluate", "models:/bags-cls3d/1", "--project", str(folder), "--split", "val")
    assert r.returncode == 0, r.stderr
    assert "mAUROC" in r.stdout and "on val" in r.stdout
    r = xwb("compare", "bags-cls3d", "--all", "--project", str(folder), "--split", "val")
    assert r.returncode == 0, r.stderr
    assert "ΔmAUROC" in r.stdout and "paired against v1" in r.stdout


def test_predict_writes_tags_and_a_radiograph_of_a_volume_and_skips_a_2d_scan(ct_trained, tmp_path):
    import cv2

    from datasets.synth.build import synth_project

    folder, _, _ = ct_trained
    flat = synth_project(tmp_path / "flat", "baggage", 1, seed=3, size=(128, 160))
    with Project.open(flat, readonly=True) as p:
        scan2d = p.image_path(p.store.images()[0])
    vol = sorted((folder / "volumes").glob("*.nii"))[0]
    r = xwb("predict", "models:/bags-cls3d/1", str(vol), str(scan2d), "--out", str(tmp_path / "out"),
            "--project", str(folder))
    assert r.returncode == 1  # one scan skipped, the rest written
    doc = json.loads((tmp_path / "out" / f"{vol.stem}.json").read_text())
    assert doc["task"] == "cls3d" and set(doc["scores"]) and "detected" in doc
    pic = cv2.imread(str(tmp_path / "out" / f"{vol.stem}.overlay.png"))
    assert pic.shape[:2] == (32, 48)  # the top-down radiograph: z by x
    assert "skipped" in r.stderr and scan2d.name in r.stderr and "reads CT volumes" in r.stderr \
        and "this scan is a 2-D scan" in r.stderr


@pytest.mark.parametrize("override, key", [(["model.arch=timm"], "model.arch"),
                                           (["model.encoder=resnet99"], "model.encoder")])
def test_a_recipe_cls3d_cannot_build_names_the_key(ct_trained, override, key):
    from training.loop.run import train

    folder, _, _ = ct_trained
    with pytest.raises(XwbError) as e:
        train(TINY3D, folder, overrides=override, quiet=True)
    assert str(e.value).startswith(key) and ("monai" in str(e.value) or "resnet10" in str(e.value))


def test_cls3d_leaves_2d_scans_out_and_a_2d_model_refuses_a_volume(tmp_path, caplog):
    from datasets.synth.build import synth_project
    from training import tasks
    from training.loop.data import load_items

    flat = synth_project(tmp_path / "flat", "baggage", 3, seed=3, size=(128, 160))
    with Project.open(flat, readonly=True) as p, caplog.at_level("WARNING"):
        items = [it for s in ("train", "val", "test") for it in load_items(p, s, list(p.taxonomy.tags),
                                                                               tasks.get("cls3d"))]
    assert items == [] and "2-D scan" in caplog.text and "task cls3d trains on CT volumes" in caplog.text


def test_volume_inputs_keep_their_shape_and_air_pads():
    from training.nets import model_code

    v = np.ones((1, 20, 40, 80), np.float32)
    cube = model_code.letterbox3d(v, 32)
    assert cube.shape == (1, 32, 32, 32)
    assert np.allclose(cube[:, :8, :16, :32], 1.0) and cube[:, 8:].max() == 0 and cube[:, :, 16:].max() == 0
    # stored CT numbers (HU + 1024): air 24, water 1024, steel 9400 -> 0, 1, about 9.4 times water
    d = model_code.ct_density(np.array([[24, 1024, 9400]], np.uint16), (1.0, -1024.0))
    assert np.allclose(d, [[0.0, 1.0, 9.376]], atol=1e-3)


def test_volume_augmentation_is_deterministic_and_changes_across_epochs(tmp_path):
    from training.loop import data as D
    from training.loop import volumes
    from training.recipes.config import load_config

    cfg = load_config(TINY3D)
    vol = np.zeros((16, 16, 24, 1), np.uint16) + 1024
    vol[2:6, 3:9, 4:12] = 3000
    np.save(tmp_path / "v.npy", vol)
    it = D.ScanItem(1, str(tmp_path / "v.npy"), 24, 16, 1, [], 0.0, "gray", 16, False, [],
                    np.array([1.0], np.float32), "zyxc", depth=16, rescale=(1.0, -1024.0))
    pre = {"kind": "ct", "channels": ["high"], "rescale": [1.0, -1024.0], "mean": [1.0], "std": [0.5]}
    ds = volumes.ClsVolumes([it], cfg, pre)
    a, y = ds[0]
    assert a.shape == (1, 32, 32, 32) and y.tolist() == [1.0]
    assert np.array_equal(a.numpy(), ds[0][0].numpy())
    seen = {ds[0][0].numpy().tobytes()}
    for e in range(1, 6):
        ds.set_epoch(e)
        seen.add(ds[0][0].numpy().tobytes())
    assert len(seen) > 2


def test_a_ct_recipe_keeps_densities_calibrated_and_says_so():
    from training.nets.inputs import InputKind
    from training.recipes.config import load_config
    from training.tasks.cls3d import CT_GAIN_LIMIT, fit_ct_augment

    cfg = load_config(TINY3D, ["augment.gain_limit=0.15", "augment.tip=0.3"])
    note = fit_ct_augment(cfg, InputKind("gray", 16, True), "cls3d")
    assert "gain_limit 0.15 lowered to 0.02" in note and "tip 0.3 set to 0" in note
    assert cfg.augment.gain_limit == CT_GAIN_LIMIT and cfg.augment.tip == 0.0
    with pytest.raises(XwbError, match="single- or dual-energy CT"):
        fit_ct_augment(cfg, InputKind("rgb", 8, True), "cls3d")
