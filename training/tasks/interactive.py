"""Click-to-segment (``task: interactive``): a network that sees the scan and an annotator's clicks (positive:
"this is the object", negative: "this is not") and draws the object, learnt from the project's own regions.

Training crops (``training.loop.data.ClickCrops``) are centred on one object at a time (class-agnostic: any
accepted region), with clicks simulated the way annotators click: the first near the object's centre, more
inside it, negatives in the band around it (``datasets.clicks.training_clicks``). Validation runs the
interactive-segmentation protocol with the model in the loop: clicks to IoU 0.85 / 0.90 (NoC85, NoC90, at
most ``MAX_CLICKS``) and the IoU after one and three clicks, which early stopping follows. Registered as ``<project>-click``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from datasets.errors import XwbError
from datasets.regions import IGNORE_LABEL
from training.tasks.seg import Segmentation

MAX_CLICKS = 20
MARGIN = 48  # px of context around an object in a validation window


@dataclass
class ClickAccumulator:
    """Per object: clicks to each IoU and the IoU after one and three clicks."""

    classes: list[str]
    max_clicks: int = MAX_CLICKS
    rows: list[dict] = field(default_factory=list)
    scores: list = field(default_factory=list)   # (no detection scores: nothing alarms by itself)
    present: list = field(default_factory=list)

    def add_object(self, cls: str, ious: list[float]) -> None:
        def noc(t: float) -> int:
            return next((k + 1 for k, v in enumerate(ious) if v >= t), self.max_clicks)
        # the protocol stops at IoU 0.9: an object done in one or two clicks keeps that IoU at the third
        self.rows.append({"class": cls, "NoC85": noc(0.85), "NoC90": noc(0.9), "IoU_c1": ious[0],
                          "IoU_c3": ious[min(2, len(ious) - 1)]})

    def result(self, pfas=(), threshold: float = 0.5) -> dict:
        per = {}
        for c in self.classes:
            rows = [r for r in self.rows if r["class"] == c]
            if rows:
                per[c] = {k: float(np.mean([r[k] for r in rows])) for k in ("NoC85", "NoC90", "IoU_c1", "IoU_c3")}
                per[c]["objects"] = len(rows)
        rows = self.rows

        def mean(k: str) -> float:
            return float(np.mean([r[k] for r in rows])) if rows else math.nan

        return {"headline": {"mIoU_c3": mean("IoU_c3"), "mIoU_c1": mean("IoU_c1"), "NoC85": mean("NoC85"),
                             "NoC90": mean("NoC90"), "objects": float(len(rows))},
                "per_class": per, "confusion": [],
                "per_object": {k: [r[k] for r in rows] for k in ("class", "NoC85", "NoC90", "IoU_c1", "IoU_c3")}}


def protocol(probs_for, truth: np.ndarray, ignore: np.ndarray | None = None, max_clicks: int = MAX_CLICKS,
             stop_at: float = 0.9) -> list[float]:
    """IoU after each click of the protocol; ``probs_for(clicks) -> (H, W) probability`` is the model."""
    from datasets.clicks import iou, next_click

    clicks, ious, pred = [], [], None
    for _ in range(max_clicks):
        clicks.append(next_click(pred, truth, ignore))
        pred = probs_for(clicks) > 0.5
        if ignore is not None:
            pred &= ~ignore
        ious.append(iou(pred, truth))
        if ious[-1] >= stop_at:
            break
    return ious


class Interactive(Segmentation):
    name = "interactive"
    help = "click-to-segment: the object under an annotator's clicks (assisted labelling)"
    labels = "classes"
    monitor = "mIoU_c3"
    val_metrics = ("mIoU_c3", "mIoU_c1", "NoC85", "NoC90")
    key_metrics = ("NoC85", "NoC90", "mIoU_c1", "mIoU_c3")
    answers_clicks = True
    seconds_per = "click"  # measure() times the model's answer to one click
    per_class_metric = "IoU_c1"
    detection = False
    model_suffix = "click"
    shuffle = False

    def input_channels(self, n: int) -> int:
        return n + 2  # and the positive and negative click maps

    def outputs(self, k):
        return (-1, -1, -1)

    def hub_net(self, spec, weights):
        import segmentation_models_pytorch as smp

        m = spec["model"]
        return smp.create_model(m["arch"], encoder_name=m["encoder"], encoder_weights=weights,
                                in_channels=len(spec["preprocess"]["channels"]) + 2, classes=1)

    def fit_to_scans(self, cfg, kind):
        return ""

    def dataset(self, items, cfg, pre, rank, world):
        from training.loop import data as D

        return D.ClickCrops(items, cfg, pre, rank, world)

    # ------------------------------------------------------------ measuring
    def accumulator(self, classes, max_clicks=None):
        return ClickAccumulator(classes, max_clicks or MAX_CLICKS)

    def measure(self, pred, item, counts, acc):
        """Every object of the scan by the protocol, in a window around it (clicks in window pixels)."""
        from datasets.regions import paint
        from training.loop.data import crop_counts

        t = time.perf_counter()
        n = 0
        for k, r in item.regions:
            if k == IGNORE_LABEL:
                continue
            x0, y0, x1, y1 = r.pixel_box(item.width, item.height)
            x0, y0 = max(0, x0 - MARGIN), max(0, y0 - MARGIN)
            x1, y1 = min(item.width, x1 + MARGIN), min(item.height, y1 + MARGIN)
            win = crop_counts(counts, y0, x0, y1 - y0, x1 - x0)
            labels = item.label_map(y0=y0, x0=x0, h=y1 - y0, w=x1 - x0)
            truth = np.zeros(labels.shape, np.uint8)
            paint(truth, r, 1, x0, y0)
            ious = protocol(lambda clicks: pred.click_probs(win, clicks, item.i0, item.dark), truth.astype(bool),  # noqa: B023 (called within this iteration)
                            labels == IGNORE_LABEL, acc.max_clicks)
            acc.add_object(pred.classes[k - 1] if 0 < k <= len(pred.classes) else "object", ious)
            n += len(ious)
        return (time.perf_counter() - t) / max(n, 1), None, None

    def report(self, res, pred, out, colors, regime):
        return []

    # ------------------------------------------------------------ outputs
    def _needs_clicks(self):
        return XwbError("a click-to-segment model (task interactive) needs an annotator's clicks: use it in the "
                        "workbench (tool C) or with Predictor.click_probs, not for predict, prelabel or "
                        "manifest-check")

    def check_batch_use(self):
        raise self._needs_clicks()

    def scores(self, probs, classes):
        return {}

    def uncertainty(self, probs):
        raise self._needs_clicks()

    def found(self, pred, spec, threshold, min_area):
        raise self._needs_clicks()

    def propose(self, project, rec, pred, spec, source, threshold, min_area):
        raise self._needs_clicks()

    def write_prediction(self, pred, p, rgb, stem, doc, threshold, probs, min_area):
        raise self._needs_clicks()


TASK = Interactive()
