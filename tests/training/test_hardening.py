"""Model versions that cannot be tampered with unnoticed, registrations that are whole or invisible,
outputs that never follow links, servers that die with xwb, checkpoints that can be cleaned (issue 13)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from datasets.errors import XwbError
from tests.conftest import REPO, one_line_error
from tests.training.conftest import TINY, client_for, make_synth, xwb
from training.evaluation.review import promote
from training.inference.predict import load_predictor
from training.versions.tracking import default_uri


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny project with one registered, signed version (hard-1)."""
    from training.loop.run import train

    proj = make_synth(tmp_path_factory.mktemp("hard") / "hard", count=10, seed=4)
    r = train(TINY, proj, ["optim.epochs=1", "eval.overlays=0", "mlflow.registered_model=hard"], quiet=True)
    assert r.version == "1"
    return proj, r.run_id


def _scan(proj):
    return next((proj / "images").glob("*.tiff"))


def test_a_version_is_signed_at_registration(trained):
    proj, _ = trained
    tags = client_for(proj).get_model_version("hard", "1").tags
    assert tags["xwb.registration"] == "complete"
    assert len(tags["xwb.sha256"]) == 64
    assert {"xwb.sha256.code", "xwb.sha256.spec", "xwb.sha256.weights"} <= set(tags)


def test_changed_model_code_is_refused_until_resigned(trained, tmp_path):
    proj, _ = trained
    codes = [p for p in (proj / "mlflow").rglob("model_code.py")]
    assert codes
    marker = tmp_path / "pwned"
    originals = {p: p.read_text() for p in codes}
    try:
        for p in codes:
            with open(p, "a") as f:
                f.write(f"\nopen({str(marker)!r}, 'w').write('ran')\n")
        r = xwb("predict", "models:/hard/1", str(_scan(proj)), "--out", str(tmp_path / "o"), "--project", str(proj))
        one_line_error(r, "models:/hard/1", "changed since registration", "model_code.py", "xwb sign")
        assert not marker.exists()             # the planted code never ran
        r = xwb("sign", "models:/hard/1", "--project", str(proj), "--reason", "test: deliberate change")
        assert r.returncode == 0 and "signed hard v1" in r.stdout, r.stderr
        r = xwb("predict", "models:/hard/1", str(_scan(proj)), "--out", str(tmp_path / "o"), "--project", str(proj))
        assert r.returncode == 0, r.stderr
        assert marker.exists()                 # re-signed on purpose: now it is the version's code
    finally:
        for p, text in originals.items():
            p.write_text(text)
        xwb("sign", "models:/hard/1", "--project", str(proj), "--reason", "test: restore")


def test_a_version_from_before_signatures_is_signed_once_checked(trained, tmp_path):
    proj, run_id = trained
    c = client_for(proj)
    pending = c.get_run(run_id).data.tags["xwb.pending_version_tags"]
    for k in ("xwb.registration", "xwb.sha256"):  # what a version registered by an earlier xwb looks like
        c.delete_model_version_tag("hard", "1", k)
    c.delete_tag(run_id, "xwb.pending_version_tags")
    try:
        r = xwb("predict", "models:/hard/1", str(_scan(proj)), "--out", str(tmp_path / "o"), "--project", str(proj))
        one_line_error(r, "earlier xwb", "xwb sign models:/hard/1")
        r = xwb("sign", "models:/hard/1", "--project", str(proj), "--reason", "checked by hand")
        assert r.returncode == 0, r.stderr
        assert c.get_model_version("hard", "1").tags["xwb.registration"] == "complete"
        assert load_predictor("models:/hard/1", tracking_uri=default_uri(proj)).task == "seg"
    finally:
        c.set_tag(run_id, "xwb.pending_version_tags", pending)


def test_predict_never_writes_through_a_planted_link(trained, tmp_path):
    proj, _ = trained
    scan = _scan(proj)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / f"{scan.stem}.json").symlink_to(victim)
    r = xwb("predict", "models:/hard/1", str(scan), "--out", str(out), "--project", str(proj))
    one_line_error(r, "symbolic link")
    assert victim.read_text() == "precious"


def test_an_interrupted_registration_is_refused_then_completed_by_resume(trained, tmp_path):
    proj, run_id = trained  # (runs before the clean test below, which deletes this run's checkpoints)
    c = client_for(proj)
    # what a kill between "register" and "tag" leaves: a READY version without its tags, its run RUNNING
    for k in list(c.get_model_version("hard", "1").tags):
        c.delete_model_version_tag("hard", "1", k)
    c.update_run(run_id, status="RUNNING")
    scan = str(_scan(proj))
    one_line_error(xwb("predict", "models:/hard/1", scan, "--out", str(tmp_path / "o"), "--project", str(proj)),
                   "registration was interrupted", f"--resume {run_id}")
    with pytest.raises(XwbError, match="registration was interrupted"):
        promote("hard", "1", "champion", proj)
    res = xwb("train", "--project", str(proj), "--resume", run_id)  # the run's own config
    assert res.returncode == 0, res.stderr
    assert "completed the interrupted registration" in res.stdout + res.stderr
    versions = c.search_model_versions("name='hard'")
    assert [str(v.version) for v in versions] == ["1"]       # no second version
    tags = c.get_model_version("hard", "1").tags
    assert tags["xwb.registration"] == "complete" and tags["run_id"] == run_id and "dataset_digest" in tags
    assert c.get_run(run_id).info.status == "FINISHED"
    history = c.get_metric_history(run_id, "best_epoch")
    assert len(history) == 1                                  # summary metrics logged once
    assert load_predictor("models:/hard/1", tracking_uri=default_uri(proj)).task == "seg"
    # a finished, complete run has nothing to resume
    one_line_error(xwb("train", "--project", str(proj), "--resume", run_id), "nothing to resume")


def test_clean_deletes_checkpoints_of_finished_runs_only(trained):
    proj, run_id = trained
    from training.loop.run import checkpoint_dir

    ck = checkpoint_dir(proj, run_id)
    assert (ck / "last.pt").is_file()
    killed = checkpoint_dir(proj, "0" * 32)
    killed.mkdir(parents=True)
    (killed / "last.pt").write_bytes(b"x" * 1000)  # a run MLflow no longer knows: nothing can resume it
    c = client_for(proj)
    c.update_run(run_id, status="KILLED")
    try:
        r = xwb("clean", "--project", str(proj))
        assert r.returncode == 0, r.stderr
        assert ck.is_dir() and not killed.exists()          # the killed run can still be resumed
        assert f"kept checkpoints of run {run_id}" in r.stdout
    finally:
        c.update_run(run_id, status="FINISHED")
    r = xwb("clean", "--project", str(proj), "--dry-run")
    assert "would delete" in r.stdout and ck.is_dir()
    r = xwb("clean", "--project", str(proj))
    assert r.returncode == 0 and not ck.exists(), r.stdout


def test_mlflow_ui_dies_with_xwb_even_after_sigkill(trained):
    proj, _ = trained
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    ui = subprocess.Popen([sys.executable, "-m", "workbench.cli", "mlflow-ui", "--project", str(proj), "--port",
                           str(port)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ui.stdout.readline()                          # printed once the server answers
        assert "MLflow UI" in line, ui.stderr.read()
        pgid = _server_group(port)
        ui.send_signal(signal.SIGKILL)
        ui.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.2)
        assert not _group_alive(pgid), "the MLflow server outlived xwb"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if ui.poll() is None:
            ui.kill()


def _server_group(port: int) -> int:
    out = subprocess.run(["pgrep", "-f", f"mlflow server .*--port {port}"], capture_output=True, text=True).stdout
    pid = int(out.split()[0])
    return os.getpgid(pid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
