"""The project's registered model versions as one table: what the Models panel and ``xwb versions`` show.

One row per version: name, version, aliases, task, recipe, architecture, the dataset digest it was trained
on, when, and its headline figures (validation at training time; a frozen split's when ``xwb evaluate``
measured it). Read from the version tags training and evaluation write, so listing needs no model load.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from training import tasks
from training.versions import registry, tracking


@dataclass
class VersionRow:
    name: str
    version: str
    aliases: list[str]
    task: str
    recipe: str
    architecture: str
    digest: str                      # the dataset digest it was trained on ("" if unknown)
    created: str
    figures: dict[str, float] = field(default_factory=dict)  # "val mIoU", "test mIoU", ...
    batch_use: str = ""              # why it cannot pre-label or rank scans by itself ("" if it can)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def headline(self) -> str:
        """The task's key figures, a frozen split's before validation's."""
        keys = tasks.get(self.task).key_metrics if self.task in tasks.names() else ()
        out = []
        for k in keys[:2]:
            for where in ("test", "val"):
                v = self.figures.get(f"{where} {k}")
                if v is not None:
                    out.append(f"{where} {k} {v:.3f}")
                    break
        return ", ".join(out)


def _batch_use(task: str) -> str:
    if task not in tasks.names():
        return f"task {task or '?'} is not known to this xwb"
    try:
        tasks.get(task).check_batch_use()
    except Exception as e:  # noqa: BLE001 - the task's own reason, shown as a tooltip
        return str(e).splitlines()[0]
    return ""


def _figures(vtags: dict) -> dict[str, float]:
    out = {}
    for k, v in vtags.items():
        if k.startswith("val_"):
            key = f"val {k[4:]}"
        elif k.startswith("eval.") and k.count(".") == 2 and not k.endswith((".run_id", ".digest")):
            _, split, metric = k.split(".")
            key = f"{split} {metric}"
        else:
            continue
        try:
            f = float(v)
        except ValueError:
            continue
        if not math.isnan(f):
            out[key] = f
    return out


def project_versions(project_path: str | Path, tracking_uri: str | None = None,
                     task: str | None = None) -> list[VersionRow]:
    """Every registered version in the project's store (or ``tracking_uri``), newest first per model;
    ``task`` keeps one task's versions."""
    from mlflow import MlflowClient

    uri = tracking.resolve_uri(tracking_uri, Path(project_path))
    tracking.quiet_mlflow()
    rows: list[VersionRow] = []
    with tracking.using(uri):
        tracking.check_server(uri)
        c = MlflowClient()
        for rm in sorted(c.search_registered_models(), key=lambda m: m.name):
            aliases = registry.by_version(rm.aliases)
            for mv in sorted(c.search_model_versions(f"name='{rm.name}'"), key=lambda v: -int(v.version)):
                t = mv.tags or {}
                if task and t.get("task") != task:
                    continue
                rows.append(VersionRow(
                    rm.name, str(mv.version), aliases.get(str(mv.version), []), t.get("task", ""),
                    t.get("recipe", ""), t.get("architecture", ""), t.get("dataset_digest", ""),
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(mv.creation_timestamp / 1000)), _figures(t),
                    _batch_use(t.get("task", ""))))
    return rows


def format_rows(rows: list[VersionRow]) -> str:
    if not rows:
        return "no registered versions yet: train one with `xwb train RECIPE --project P`"
    head = ("model", "v", "aliases", "task", "recipe", "digest", "created", "figures")
    table = [head] + [(r.name, r.version, ",".join(r.aliases) or "-", r.task, r.recipe, r.digest[:12] or "-",
                       r.created, r.headline() or "-") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in table)
