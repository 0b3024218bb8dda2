"""Clicks on objects: the interactive-segmentation protocol (where a scripted annotator clicks next) and the
clicks a click-to-segment model is trained on. Plain numpy/OpenCV, shared by training (validation by clicks
to an IoU, simulated training clicks), the workbench's benchmark robot and its tests.

Protocol (as in the interactive-segmentation literature, "NoC"): the first click at the object's interior
point farthest from its boundary; each next click at the interior point of the largest error region,
positive where the object was missed, negative where too much was taken.
"""
from __future__ import annotations

import cv2
import numpy as np

Click = tuple[int, int, bool]  # (x, y, positive)


def interior_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the pixel of ``mask`` farthest from its boundary (of a ridge of equals, the middle one)."""
    dt = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(dt >= dt.max() - 1e-3)
    k = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
    return int(xs[k]), int(ys[k])


def next_click(pred: np.ndarray | None, truth: np.ndarray, ignore: np.ndarray | None = None) -> Click:
    """The protocol's next click on same-sized masks: the centre of the largest missed (positive) or wrongly
    taken (negative) area; the object's centre for the first click or when nothing is wrong."""
    if pred is None or (not pred.any() and truth.any()):
        return (*interior_point(truth), True)
    best = None
    care = np.ones_like(truth, bool) if ignore is None else ~ignore
    for err, positive in ((truth & ~pred & care, True), (pred & ~truth & care, False)):
        n, lab, stats, _ = cv2.connectedComponentsWithStats(err.astype(np.uint8), connectivity=8)
        if n > 1:
            j = 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())
            area = int(stats[j, cv2.CC_STAT_AREA])
            if best is None or area > best[0]:
                best = (area, lab == j, positive)
    if best is None:
        return (*interior_point(truth), True)
    return (*interior_point(best[1]), best[2])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    u = int((a | b).sum())
    return int((a & b).sum()) / u if u else 0.0


def training_clicks(truth: np.ndarray, rng: np.random.Generator, max_pos: int = 3, max_neg: int = 3,
                    near: int = 40) -> list[Click]:
    """Clicks an annotator might have made on ``truth``: the first positive near the object's centre,
    further positives anywhere inside, negatives in the band around it (where a model's mistakes are)."""
    clicks: list[Click] = []
    inside = np.argwhere(cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    if not len(inside):
        inside = np.argwhere(truth)
    if not len(inside):
        return clicks
    cx, cy = interior_point(truth)
    jitter = rng.normal(0, 0.15 * np.sqrt(len(inside)) ** 0.5 + 1, 2)
    y, x = int(np.clip(cy + jitter[1], 0, truth.shape[0] - 1)), int(np.clip(cx + jitter[0], 0, truth.shape[1] - 1))
    if not truth[y, x]:
        y, x = cy, cx
    clicks.append((x, y, True))
    for _ in range(int(rng.integers(0, max_pos))):
        y, x = inside[rng.integers(len(inside))]
        clicks.append((int(x), int(y), True))
    band = cv2.dilate(truth.astype(np.uint8), np.ones((2 * near + 1, 2 * near + 1), np.uint8)) > 0
    outside = np.argwhere(band & ~truth)
    if len(outside):
        for _ in range(int(rng.integers(0, max_neg + 1))):
            y, x = outside[rng.integers(len(outside))]
            clicks.append((int(x), int(y), False))
    return clicks
