"""What to label next: unlabelled scans ordered by how unsure a model is about them (active learning).

Labelling the scans a model is least sure of first teaches it more per scan than labelling at random
(``benchmarks/bench_active.py`` measures by how much on synthetic scans). The score is the task's own
(``Task.uncertainty``: for segmentation, normalised pixel entropy where the model does not call plain
background; for tags, the mean binary entropy), 0 = sure, 1 = no idea. ``xwb queue`` prints the queue;
the workbench's Models panel fills the image list's "uncertainty" column with it, in the background.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from datasets.project import Project
from training.inference.outputs import Progress, _open_model, _why, targets
from training.inference.predict import Predictor
from training.versions import registry


@dataclass
class Ranked:
    image_id: int
    path: str
    uncertainty: float


def rank_scans(pred: Predictor, p: Project, recs: list, progress: Progress | None = None,
               cancelled: Callable[[], bool] | None = None) -> tuple[list[Ranked], int]:
    """(scans most uncertain first, how many could not be read). ``cancelled()`` is asked before each scan;
    a cancelled ranking returns what it measured so far."""
    task = pred.task_type
    task.check_batch_use()
    out, failed = [], 0
    for i, rec in enumerate(recs):
        if cancelled is not None and cancelled():
            break
        try:
            u = task.uncertainty(pred.predict_scan(p.read_scan(rec)).probs)
        except Exception as e:  # an unreadable scan is skipped and counted, the rest is ranked
            failed += 1
            if progress is not None:
                progress(i + 1, len(recs), f"skipped {_why(e, rec.path)}")
            continue
        out.append(Ranked(rec.id, rec.path, u))
        if progress is not None:
            progress(i + 1, len(recs), f"{rec.path}: uncertainty {u:.3f}")
    out.sort(key=lambda r: (-r.uncertainty, r.image_id))
    return out, failed


def queue(model_uri: str, project_path: str | Path, images: list[str] | None = None,
          tracking_uri: str | None = None, device: str | None = None) -> list[Ranked]:
    """The unlabelled scans of a project (or ``images``), most uncertain first."""
    folder = Path(project_path)
    ref, pred = _open_model(model_uri, folder, tracking_uri, device)
    with Project.open(folder, readonly=True) as p:
        registry.check_taxonomy(pred.spec, p, model_uri)
        ranked, failed = rank_scans(pred, p, targets(p, images, None if images else "new"))
    if failed:
        print(f"{failed} scan(s) skipped (unreadable or unlike the model's training scans)", file=sys.stderr)
    return ranked
