"""Runs an ML engineer can always find, resume and extend, and that never turn into another run (issue 15,
items 1-4)."""
import signal

from tests.training.conftest import CLS_TINY, TINY, client_for, train_until_first_epoch, xwb


def test_ctrl_c_says_how_to_resume_runs_lists_it_and_resume_extends_but_never_changes_the_run(synth):
    proc, out = train_until_first_epoch(synth, "optim.epochs=2", "eval.overlays=0", "data.crops_per_epoch=24")
    ckroot = synth / "mlflow" / "checkpoints"
    proc.send_signal(signal.SIGINT)
    out += proc.communicate(timeout=120)[0]
    run_id = next(ckroot.glob("*/last.pt")).parent.name
    assert proc.returncode == 130, out
    assert f"run {run_id} (started): MLflow " in out and f"checkpoints {ckroot / run_id}" in out
    assert f"xwb train --project {synth} --resume {run_id}" in out and "Traceback" not in out

    r = xwb("runs", "--project", str(synth))
    assert r.returncode == 0, r.stderr
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith(run_id))
    assert "killed" in row and "seg-tiny" in row and "/2" in row and "val_mIoU" in row
    assert f"xwb train --project {synth} --resume {run_id}" in r.stdout

    # a recipe of another task, or another learning rate, would make it another run: refused, named
    r = xwb("train", str(CLS_TINY), "--project", str(synth), "--resume", run_id)
    assert r.returncode == 1 and "the recipe differs from the run's own config" in r.stderr
    assert "task: run 'seg', asked 'cls'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = xwb("train", "--project", str(synth), "--resume", run_id, "--set", "optim.lr=0.5")
    assert r.returncode == 1 and "optim.lr: run" in r.stderr

    # more epochs: the run goes on to 3, records the change, registers once
    r = xwb("train", "--project", str(synth), "--resume", run_id, "--set", "optim.epochs=3")
    assert r.returncode == 0, r.stderr
    assert "changed on resume: optim.epochs 2 -> 3" in r.stderr
    c = client_for(synth)
    run = c.get_run(run_id)
    assert sorted(m.step for m in c.get_metric_history(run_id, "val_mIoU")) == list(range(3))
    assert any(k.startswith("xwb.extended.") and v.startswith("optim.epochs 2 -> 3")
               for k, v in run.data.tags.items())
    assert [str(v.version) for v in c.search_model_versions(f"run_id='{run_id}'")] == ["1"]

    # finished: nothing to resume, nothing registered twice
    r = xwb("train", "--project", str(synth), "--resume", run_id)
    assert r.returncode == 1 and "is finished and registered as bag-seg v1" in r.stderr

    # a new run fine-tunes from the registered version: every tensor loaded, the source and its hash recorded
    from training.loop.run import train

    b = train(TINY, synth, ["optim.epochs=1", "eval.overlays=0", "mlflow.register_model=false",
                            "model.encoder_weights=models:/bag-seg/1"], quiet=True)
    tags = c.get_run(b.run_id).data.tags
    assert tags["xwb.init_weights"] == "models:/bag-seg/1" and len(tags["xwb.init_weights_sha256"]) == 64
    loaded, total = tags["xwb.init_weights_loaded"].split("/")
    assert loaded == total


def test_a_finished_unregistered_run_is_not_trained_again(synth):
    from training.loop.run import train

    a = train(TINY, synth, ["optim.epochs=1", "eval.overlays=0", "mlflow.register_model=false"], quiet=True)
    r = xwb("train", "--project", str(synth), "--resume", a.run_id)
    assert r.returncode == 1 and f"run {a.run_id} is finished (it registered no version)" in r.stderr

    # its checkpoints are starting points for another run (issue 15.8): the whole network, not "no tensor"
    import json

    import torch

    from training.loop.run import checkpoint_dir
    from training.nets import model_code, models

    ck = checkpoint_dir(synth, a.run_id)
    spec = json.loads(torch.load(ck / "last.pt", weights_only=True)["spec"])
    for f in ("last.pt", "best.safetensors"):
        net = model_code.build_net(spec)
        info = models.load_weights(net, str(ck / f))
        assert info["loaded"] == info["tensors"] and info["adapted"] == 0 and len(info["sha256"]) == 64


def test_slow_epochs_show_life_in_logs(capsys):
    import io

    from training.loop.progress import Progress

    buf = io.StringIO()
    bar = Progress(stream=buf).epoch_bar(0, 3, 10)
    bar.EVERY_S = 0.0  # every batch is "slow" here
    for _ in range(10):
        bar.update(0.5, 12.0)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 9 and lines[0] == "  epoch 1/3 batch 1/10 loss 0.5000 12.0 img/s ETA(epoch) " + lines[0][-5:]
