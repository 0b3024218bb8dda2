"""User mistakes end in one line naming the key, split or server, quickly, with nothing half-done."""
import socket
import time

import pytest

from datasets.errors import XwbError
from datasets.project import Project
from tests.training.conftest import TINY, client_for, xwb


def _one_line_error(r, *needles):
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("xwb train: error:"), r.stderr
    for n in needles:
        assert n in last, last
    return last


def test_unknown_architecture_lists_the_valid_ones(synth):
    r = xwb("train", str(TINY), "--project", str(synth), "--set", "model.arch=Unett")
    _one_line_error(r, "model.arch", "Unett", "Unet", "FPN", "DeepLabV3Plus")
    assert not (synth / "mlflow").exists()  # refused before any run was opened


def test_an_unsupported_pair_is_refused_before_any_run(synth):
    r = xwb("train", str(TINY), "--project", str(synth), "--set", "model.arch=UnetPlusPlus",
            "--set", "model.encoder=mit_b0")
    _one_line_error(r, "model.arch UnetPlusPlus with model.encoder mit_b0 cannot be built")
    assert not (synth / "mlflow").exists()


def test_unknown_encoder_suggests_names(synth):
    r = xwb("train", str(TINY), "--project", str(synth), "--set", "model.encoder=resnet19")
    _one_line_error(r, "model.encoder", "resnet19", "resnet18", "xwb models --encoder")


def test_hub_weights_without_network_fail_within_seconds(synth):
    t = time.monotonic()
    r = xwb("train", str(TINY), "--project", str(synth), "--set", "model.encoder_weights=imagenet")
    _one_line_error(r, "model.encoder_weights", "imagenet")
    r2 = xwb("train", str(TINY), "--project", str(synth), "--set", "model.encoder_weights=imagenet",
             env={"XWB_ALLOW_DOWNLOAD": "1", "HF_HUB_OFFLINE": "1"})
    _one_line_error(r2, "model.encoder_weights", "local file")
    assert time.monotonic() - t < 60


def test_unknown_config_key_and_missing_config(synth, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: seg\noptim: {epochs: 1, learning_rate: 0.1}\n")
    _one_line_error(xwb("train", str(bad), "--project", str(synth)), "optim.learning_rate", "unknown key")
    _one_line_error(xwb("train", str(tmp_path / "nope.yaml"), "--project", str(synth)), "config not found")


def test_no_accepted_labels(synth):
    with Project.open(synth) as p, p.store.transaction():
        for r in list(p.store.iter_regions()):
            p.store.update_region(r.copy(state="proposal"))
    r = xwb("train", str(TINY), "--project", str(synth))
    _one_line_error(r, "no accepted regions in the train split")


def test_empty_val_split(synth):
    with Project.open(synth) as p:
        p.store.set_splits({r.id: "train" for r in p.images(split="val")}, reassign=True)
    r = xwb("train", str(TINY), "--project", str(synth))
    _one_line_error(r, "val split has no scans")


def test_nan_loss_stops_and_marks_the_run_failed(synth):
    r = xwb("train", str(TINY), "--project", str(synth), "--set", "optim.lr=1e30", "--set", "optim.clip_grad=0")
    _one_line_error(r, "loss became", "step", "marked FAILED")
    c = client_for(synth)
    (run,) = c.search_runs([c.get_experiment_by_name("bag/seg").experiment_id])
    assert run.info.status == "FAILED"
    assert "loss became" in run.data.tags["xwb.failure"]
    assert not c.search_registered_models()


def test_dead_tracking_server_errors_within_seconds(synth):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    t = time.monotonic()
    r = xwb("train", str(TINY), "--project", str(synth), "--tracking-uri", f"http://127.0.0.1:{port}")
    _one_line_error(r, f"http://127.0.0.1:{port}", "does not answer")
    assert time.monotonic() - t < 30


def test_local_encoder_weights_are_loaded(tmp_path):
    """Real weights come from local files (no network): the encoder holds exactly the file's tensors."""
    import segmentation_models_pytorch as smp
    import torch
    from safetensors.torch import save_file

    from training.nets import models

    torch.manual_seed(123)
    donor = smp.Unet("resnet18", encoder_weights=None, in_channels=3, classes=2)
    f = tmp_path / "enc.safetensors"
    save_file({k: v.contiguous() for k, v in donor.encoder.state_dict().items()}, str(f))
    spec = {"task": "seg", "model": {"arch": "Unet", "encoder": "resnet18"}, "classes": ["a"],
            "preprocess": {"channels": ["high", "low", "diff"]}}
    net = models.create(spec, str(f))
    for k, v in donor.encoder.state_dict().items():
        assert torch.equal(net.encoder.state_dict()[k], v), k
    pth = tmp_path / "enc.pth"
    torch.save(donor.encoder.state_dict(), pth)
    net2 = models.create(spec, str(pth))
    assert torch.equal(net2.encoder.conv1.weight, donor.encoder.conv1.weight)
    with pytest.raises(XwbError, match="file not found"):
        models.create(spec, str(tmp_path / "missing.safetensors"))
