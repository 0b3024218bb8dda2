"""``xwb runs``: a project's training runs, so a run id is never lost (after a crash, a closed terminal).

One row per training run, newest first: id, state, recipe, epochs done of planned, the best value of the
monitored metric, the version it registered, and for a stopped run with a checkpoint the command that
resumes it. Evaluation and comparison runs are left out.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from training import tasks
from training.loop.run import checkpoint_dir
from training.versions import tracking

STALE_S = 30 * 60  # a "running" run whose metrics have not moved for this long was probably killed (-9)


@dataclass
class RunRow:
    run_id: str
    state: str
    started: str
    recipe: str
    task: str
    epochs: str
    monitor: str
    best: float
    version: str
    resume: str


def list_runs(project_path: str | Path, tracking_uri: str | None = None, limit: int = 50) -> list[RunRow]:
    from mlflow import MlflowClient

    folder = Path(project_path)
    uri = tracking.resolve_uri(tracking_uri, folder)
    tracking.quiet_mlflow()
    rows: list[RunRow] = []
    with tracking.using(uri):
        tracking.check_server(uri)
        c = MlflowClient()
        exps = [e.experiment_id for e in c.search_experiments()]
        if not exps:
            return []
        runs = c.search_runs(exps, "tags.`xwb.recipe` != ''", order_by=["attributes.start_time DESC"],
                             max_results=limit)
        for r in runs:
            tags, params = r.data.tags, r.data.params
            if tags.get("xwb.kind"):  # evaluation / comparison runs
                continue
            monitor = params.get("optim.monitor", "None")
            if monitor in ("", "None"):
                known = tags.get("xwb.task") in tasks.names()
                monitor = f"val_{tasks.get(tags['xwb.task']).monitor}" if known else "-"
            hist = c.get_metric_history(r.info.run_id, "train_loss")
            done, planned = len({m.step for m in hist}), params.get("optim.epochs", "?")
            saved = checkpoint_dir(folder, r.info.run_id) / "progress.json"
            if saved.is_file():  # the checkpoint is ahead of MLflow when a run was stopped mid-log
                try:
                    p = json.loads(saved.read_text())
                    done, planned = max(done, int(p["epochs_done"])), p["epochs"]
                except (OSError, ValueError, KeyError, TypeError):
                    pass
            best_hist = [m.value for m in c.get_metric_history(r.info.run_id, monitor)]
            best = max((v for v in best_hist if not math.isnan(v)), default=math.nan)
            state = r.info.status.lower()
            last = max((m.timestamp for m in hist), default=r.info.start_time) / 1000
            if state == "running" and time.time() - last > STALE_S:
                state = f"running? (no epoch for {int((time.time() - last) // 60)} min)"
            ck = checkpoint_dir(folder, r.info.run_id) / "last.pt"
            resumable = state != "finished" and ck.is_file()
            rows.append(RunRow(
                r.info.run_id, state, time.strftime("%Y-%m-%d %H:%M", time.localtime(r.info.start_time / 1000)),
                tags.get("xwb.recipe", ""), tags.get("xwb.task", ""), f"{done}/{planned}",
                monitor, best, tags.get("xwb.registered_model", ""),
                f"xwb train --project {folder} --resume {r.info.run_id}" if resumable else ""))
    return rows


def format_rows(rows: list[RunRow]) -> str:
    if not rows:
        return "no training runs yet"
    head = ["run", "state", "started", "recipe", "epochs", "best", "version"]
    body = [[r.run_id, r.state, r.started, r.recipe, r.epochs,
             f"{r.monitor} {'-' if math.isnan(r.best) else f'{r.best:.4f}'}", r.version or "-"] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [head, *body]]
    resumes = [f"  {r.resume}" for r in rows if r.resume]
    if resumes:
        lines += ["", "to go on with a stopped run:", *resumes]
    return "\n".join(lines)
