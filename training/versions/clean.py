"""``xwb clean``: free the disk space of training checkpoints that nothing can resume any more.

A run keeps two checkpoints (``last.pt`` to resume, ``best.safetensors``), a few
hundred MB for a real model; a finished run's model already lives in MLflow, so
its checkpoints only matter for extending it. Runs that were killed or are still
running keep theirs (``--resume`` needs them); failed runs keep theirs unless asked.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from datasets.errors import XwbError


@dataclass
class CleanReport:
    removed: list[tuple[str, str, int]] = field(default_factory=list)  # run id, status, bytes
    kept: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(b for *_, b in self.removed)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def clean_checkpoints(project: Path, tracking_uri: str | None = None, failed: bool = False,
                      dry_run: bool = False) -> CleanReport:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from training.loop.run import checkpoint_root
    from training.versions import tracking

    root = checkpoint_root(project)
    if not (Path(project) / "project.yaml").is_file():
        raise XwbError(f"{project}: not an xwb project (no project.yaml)")
    rep = CleanReport()
    if not root.is_dir():
        return rep
    uri = tracking.resolve_uri(tracking_uri, Path(project))
    tracking.check_server(uri)
    with tracking.using(uri):
        client = MlflowClient(uri)
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                run = client.get_run(folder.name)
                status = run.info.status if run.info.lifecycle_stage != "deleted" else "DELETED"
            except MlflowException:
                status = "UNKNOWN"  # the run is gone from MLflow: nothing can resume it
            size = _size(folder)
            gone = status in ("FINISHED", "DELETED", "UNKNOWN") or (failed and status == "FAILED")
            (rep.removed if gone else rep.kept).append((folder.name, status, size))
            if gone and not dry_run:
                shutil.rmtree(folder, ignore_errors=True)
    return rep
