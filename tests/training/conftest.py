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


def xwb(*args: str, env: dict | None = None, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess."""
    e = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    e.update({"HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=e, cwd=cwd or REPO)


def client_for(project: Path, uri: str | None = None):
    """A client on the project's store that leaves MLflow's process-wide URI alone."""
    from mlflow import MlflowClient

    from training.tracking import default_uri

    uri = uri or default_uri(project)
    return MlflowClient(uri, uri)
