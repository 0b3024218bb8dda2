"""Measure a predictor on labelled scans and write what a reviewer reads.

Used by training (validation each epoch, the full report at the end) and by
``xwb evaluate`` / ``xwb compare``, so every number comes from one code path.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from training.evaluation import plots
from training.inference.predict import Predictor
from training.loop.data import ScanItem


def evaluate_items(pred: Predictor, items: list[ScanItem], pfas=(0.01, 0.05), threshold: float = 0.5,
                   keep: int = 0, progress=None, max_clicks: int | None = None) -> dict:
    """Metrics over ``items``; ``keep`` first scans' predictions are returned for overlays; ``max_clicks``:
    a cheaper click protocol for validation during training (click-to-segment models only)."""
    for it in items:  # every scan like the training scans before any is measured: no half-valid report
        pred.check(it.layout, it.bit_depth, it.path, it.volume)
    task = pred.task_type
    acc = task.accumulator(pred.classes, max_clicks=max_clicks)
    kept, seconds = [], []
    for n, it in enumerate(items):
        counts = it.counts()
        secs, truth, labels = task.measure(pred, it, counts, acc)
        seconds.append(secs)
        if n < keep and labels is not None:  # per-pixel output: kept for truth-vs-prediction overlays
            kept.append((it, np.array(counts), truth, labels))
        if progress:
            progress(n + 1, len(items))
    res = acc.result(pfas, threshold)
    res["headline"]["seconds_per_scan"] = float(np.mean(seconds)) if seconds else math.nan
    res["n_scans"] = len(items)
    res["scores"] = np.array(acc.scores).tolist()
    res["present"] = np.array(acc.present).astype(int).tolist()
    res["_kept"] = kept
    return res


def write_report(res: dict, pred: Predictor, out: Path, colors: list[tuple[int, int, int]], title: str = "",
                 regime: str = "kv") -> list[Path]:
    """metrics.json, per_class.csv, roc_pr.png, confusion.png, overlays/*.png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    public = {k: v for k, v in res.items() if not k.startswith("_")}
    (out / "metrics.json").write_text(json.dumps(public, indent=1, default=float))
    files.append(out / "metrics.json")
    per = res["per_class"]
    cols = sorted({k for row in per.values() for k in row}, key=lambda k: (k not in ("IoU", "Dice", "AP"), k))
    with open(out / "per_class.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", *cols])
        for name, row in per.items():
            w.writerow([name, *[_fmt(row.get(c)) for c in cols]])
    files.append(out / "per_class.csv")
    S, P = np.array(res["scores"]), np.array(res["present"]).astype(bool)
    if len(S):
        files.append(plots.roc_pr(S, P, pred.classes, out / "roc_pr.png", title))
    return files + pred.task_type.report(res, pred, out, colors, regime)


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4f}"
    return str(v)

