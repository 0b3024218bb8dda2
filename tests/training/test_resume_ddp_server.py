"""Killed runs resume in the same MLflow run; DDP ranks stay in step; a real tracking server works."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO
from tests.training.conftest import TINY, client_for, train_until_first_epoch, xwb

ENV = {"HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1"}


def _env(**extra):
    e = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    e.update(ENV)
    e.update(extra)
    return e


def test_kill_then_resume_continues_the_same_run(synth):
    proc, _ = train_until_first_epoch(synth, "optim.epochs=5", "eval.overlays=0", "data.crops_per_epoch=24")
    last = next((synth / "mlflow" / "checkpoints").glob("*/last.pt"))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_id = last.parent.name
    epoch_done = torch.load(last, weights_only=True)["state"]["epoch"]
    assert 1 <= epoch_done < 5
    c = client_for(synth)
    assert c.get_run(run_id).info.status == "RUNNING"  # killed: MLflow never heard the end
    before = [m.step for m in c.get_metric_history(run_id, "val_mIoU")]

    r = xwb("train", "--project", str(synth), "--resume", run_id)  # the run's own config: no recipe needed
    assert r.returncode == 0, r.stderr
    assert f"resuming run {run_id} at epoch {epoch_done + 1}" in r.stderr
    run = c.get_run(run_id)
    assert run.info.status == "FINISHED" and "xwb.resumed_at" in run.data.tags
    steps = [m.step for m in c.get_metric_history(run_id, "val_mIoU")]
    assert sorted(steps) == list(range(5)), (before, steps)  # every epoch once: nothing redone, nothing skipped
    assert len(c.search_runs([run.info.experiment_id])) == 1
    assert c.get_model_version("bag-seg", "1").run_id == run_id


def test_resume_of_an_unknown_run(synth):
    r = xwb("train", str(TINY), "--project", str(synth), "--resume", "0123456789abcdef")
    assert r.returncode == 1 and "no checkpoint to resume from" in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_gloo_ranks_hold_the_same_weights_after_each_step(synth, tmp_path):
    log = tmp_path / "ddp"
    log.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
           "-m", "training", str(TINY), "--project", str(synth), "--set", "optim.epochs=1",
           "--set", "data.crops_per_epoch=16", "--set", "eval.overlays=0", "--device", "cpu"]
    r = subprocess.run(cmd, cwd=REPO, env=_env(XWB_DDP_WEIGHT_LOG=str(log)), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r0 = [line.split() for line in (log / "rank0.txt").read_text().splitlines()]
    r1 = [line.split() for line in (log / "rank1.txt").read_text().splitlines()]
    assert len(r0) == len(r1) >= 2
    for (s0, w0, x0), (s1, w1, x1) in zip(r0, r1):
        assert s0 == s1 and w0 == w1      # same weights after every step
        assert x0 != x1                   # from different data
    assert len({w for _, w, _ in r0}) == len(r0)  # and the weights did move
    c = client_for(synth)
    runs = c.search_runs([c.get_experiment_by_name("bag/seg").experiment_id])
    assert len(runs) == 1 and runs[0].data.tags["xwb.world_size"] == "2"  # only rank 0 logged


@pytest.fixture
def mlflow_server(tmp_path):
    port = _free_port()
    db = tmp_path / "server.db"
    art = tmp_path / "server-artifacts"
    proc = subprocess.Popen([str(Path(sys.executable).with_name("mlflow")), "server", "--backend-store-uri",
                             f"sqlite:///{db}", "--artifacts-destination", str(art), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    import urllib.request

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(uri + "/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("mlflow server did not start")
    yield uri
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_against_a_real_mlflow_server(synth, mlflow_server):
    r = xwb("train", str(TINY), "--project", str(synth), "--tracking-uri", mlflow_server,
            "--set", "optim.epochs=1", "--set", "eval.overlays=1", fresh=True)
    assert r.returncode == 0, r.stderr
    c = client_for(synth, mlflow_server)
    (run,) = c.search_runs([c.get_experiment_by_name("bag/seg").experiment_id])
    assert run.info.status == "FINISHED" and "val_mIoU" in run.data.metrics
    assert not (synth / "mlflow" / "mlflow.db").exists()  # nothing went to the embedded store
    from training.inference.predict import load_predictor

    pred = load_predictor("models:/bag-seg/1", tracking_uri=mlflow_server)
    assert pred.task == "seg" and pred.classes[0] == "firearm"
