"""Fixtures for the training layer: real synthetic projects, real MLflow stores."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TINY = REPO / "configs" / "seg_tiny.yaml"
CLS_TINY = REPO / "configs" / "cls_tiny.yaml"


def make_synth(folder: Path, count: int = 16, seed: int = 1, size=(192, 256), kind: str = "baggage") -> Path:
    from datasets.synth.build import synth_project

    return synth_project(folder, kind, count, seed=seed, size=size)


@pytest.fixture
def synth(tmp_path) -> Path:
    """A 16-scan synthetic baggage project (192x256, dual energy, exact masks)."""
    return make_synth(tmp_path / "bag")


def xwb(*args: str, env: dict | None = None, timeout: float = 300, cwd: Path | None = None,
        fresh: bool = False) -> subprocess.CompletedProcess:
    """The ``xwb`` command line: in this process (``workbench.cli.main``, its output captured, MLflow's and
    the environment's state put back), or with ``fresh`` in a new interpreter, for what only a process
    shows (the console script, start-up, signals, several processes). In process saves the 6-8 s a fresh
    interpreter spends importing torch and MLflow; the command's own code, its exit code and its one-line
    errors are the same either way."""
    if fresh:
        e = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        e.update({"HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1", **(env or {})})
        return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                              timeout=timeout, env=e, cwd=cwd or REPO)
    return xwb_in_process(*args, env=env, cwd=cwd)


def xwb_in_process(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    import contextlib
    import io

    import mlflow

    from workbench.cli import main

    saved_env = dict(os.environ)
    saved_uri = mlflow.get_tracking_uri()
    saved_cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.update({"HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1", **(env or {})})
    try:
        os.chdir(cwd or REPO)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse's usage errors
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        mlflow.set_tracking_uri(saved_uri)
        if "MLFLOW_TRACKING_URI" not in saved_env:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.CompletedProcess(["xwb", *args], code, out.getvalue(), err.getvalue())


def client_for(project: Path, uri: str | None = None):
    """A client on the project's store that leaves MLflow's process-wide URI alone."""
    from mlflow import MlflowClient

    from training.versions.tracking import default_uri

    uri = uri or default_uri(project)
    return MlflowClient(uri, uri)


def train_until_first_epoch(project: Path, *sets: str, timeout: float = 180):
    """Start ``xwb train TINY`` in a subprocess and return (process, output so far) once its first epoch is
    checkpointed: the "epoch 1/N" line is printed after the save, so reading the output waits on the run
    itself, not on a clock. A watchdog kills a run that says nothing for ``timeout`` seconds."""
    import signal
    import threading

    args = [sys.executable, "-m", "workbench.cli", "train", str(TINY), "--project", str(project)]
    for s in sets:
        args += ["--set", s]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update({"HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1"})
    # started as a background job of a script would be (SIGINT ignored): xwb must still answer Ctrl-C
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("epoch 1/"):
                return proc, "".join(lines)
    finally:
        watchdog.cancel()
    raise AssertionError("the run ended before its first epoch:\n" + "".join(lines))
