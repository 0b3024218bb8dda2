"""A scripted annotator: the interactive-segmentation protocol (clicks to reach an IoU, "NoC").

First click at the object's interior point farthest from its boundary; each next click at the interior
point of the largest error region, positive where the object was missed, negative where the tool took too
much; at most ``MAX_CLICKS``. Tools without clicks of that kind are measured the way an annotator uses
them: live-wire anchors placed on the true outline, polygon vertices of a simplified true outline.
Used by ``benchmarks/bench_assist.py`` and by the tests of the tools.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from datasets import clicks
from workbench.assist import wand as W
from workbench.assist.livewire import LiveWire
from workbench.assist.masks import Patch, iou, minus, polygon_patch, union
from workbench.assist.signal import ScanSignal

MAX_CLICKS = 20


def next_click(pred: Patch | None, truth: Patch) -> tuple[int, int, bool]:
    """(x, y, positive) in scan coordinates: the protocol's next click (``datasets.clicks``) on patches."""
    if pred is None:
        x, y, pos = clicks.next_click(None, truth.mask)
        return truth.x0 + x, truth.y0 + y, pos
    box = (min(pred.x0, truth.x0), min(pred.y0, truth.y0), max(pred.box[2], truth.box[2]),
           max(pred.box[3], truth.box[3]))
    x, y, pos = clicks.next_click(pred.cut(box), truth.cut(box))
    return box[0] + x, box[1] + y, pos


def clicks_to(step: Callable[[Patch | None, int, int, bool], Patch | None], truth: Patch,
              targets=(0.85, 0.9), max_clicks: int = MAX_CLICKS) -> tuple[dict[float, int], list[float]]:
    """Run the protocol with ``step(pred, x, y, positive) -> new pred``; returns clicks needed per target
    (``max_clicks`` when never reached, as the protocol counts) and the IoU after each click."""
    pred, curve = None, []
    need: dict[float, int] = {}
    for k in range(1, max_clicks + 1):
        x, y, positive = next_click(pred, truth)
        pred = step(pred, x, y, positive)
        curve.append(iou(pred, truth))
        for t in targets:
            if t not in need and curve[-1] >= t:
                need[t] = k
        if len(need) == len(targets):
            break
    return {t: need.get(t, max_clicks) for t in targets}, curve


def wand_step(signal: ScanSignal, truth: Patch, tolerances=W.TOLERANCES):
    """The wand as the robot uses it: a positive click adds (Shift), a negative one takes away (Alt); the
    tolerance is the robot's choice from the fixed set, as an annotator drags until it looks right."""
    def step(pred, x, y, positive):
        best, score = pred, iou(pred, truth)
        for t in tolerances:
            area = W.wand(signal, x, y, t)
            cand = union(pred, area) if positive else minus(pred, area)
            s = iou(cand, truth)
            if s > score:
                best, score = cand, s
        return best
    return step


def outlines(truth: Patch, min_area: int = 16) -> list[np.ndarray]:
    """Outer contours of each part of the truth, (N, 2) scan pixels, largest first (a hidden object may be
    seen in pieces; an annotator outlines each)."""
    cs, _ = cv2.findContours(truth.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cs = sorted((c for c in cs if cv2.contourArea(c) >= min_area), key=lambda c: -cv2.contourArea(c))
    return [c[:, 0, :] + [truth.x0, truth.y0] for c in cs] or [np.argwhere(truth.mask)[:1, ::-1] + [truth.x0, truth.y0]]


def _simplified(parts: list[np.ndarray], eps: float) -> list[np.ndarray]:
    """Each part's outline simplified to within ``eps`` px (Douglas-Peucker): where an annotator puts
    vertices or anchors, on the corners."""
    out = []
    for c in parts:
        poly = cv2.approxPolyDP(c.reshape(-1, 1, 2).astype(np.int32), float(eps), True).reshape(-1, 2)
        if len(poly) >= 3:
            out.append(poly)
    return out


def _eps_steps(truth: Patch) -> np.ndarray:
    return np.geomspace(max(truth.mask.shape) / 2, 0.25, 40)


def livewire_anchors(signal: ScanSignal, truth: Patch, targets=(0.85, 0.9),
                     max_clicks: int = MAX_CLICKS) -> tuple[dict[float, int], list[float]]:
    """Anchors on the corners of the true outline (the polygon baseline's vertices), fewest first: the
    wire between them follows the edges; clicks = anchors placed (``max_clicks`` when never reached)."""
    parts = outlines(truth)
    need: dict[float, int] = {}
    curve, tried = [], set()
    for eps in _eps_steps(truth):
        polys = _simplified(parts, eps)
        n = sum(len(p) for p in polys)
        if not polys or n in tried:
            continue
        if n > max_clicks:
            break
        tried.add(n)
        area = None
        for poly in polys:
            lw = LiveWire(signal)
            for x, y in poly:
                lw.add_anchor(x, y)
            area = union(area, polygon_patch(lw.close()))
        s = iou(area, truth)
        curve.append(s)
        for t in targets:
            if t not in need and s >= t:
                need[t] = n
        if len(need) == len(targets):
            break
    return {t: need.get(t, max_clicks) for t in targets}, curve


def polygon_vertices(truth: Patch, targets=(0.85, 0.9), limit: int = 200) -> dict[float, int]:
    """Vertices of the simplest polygons (Douglas-Peucker of each part's true outline) reaching each IoU."""
    parts = outlines(truth)
    need = {t: limit for t in targets}
    for eps in _eps_steps(truth):
        polys = _simplified(parts, eps)
        area, n = None, sum(len(p) for p in polys)
        for poly in polys:
            area = union(area, polygon_patch(poly))
        s = iou(area, truth)
        for t in targets:
            if s >= t:
                need[t] = min(need[t], n)
    return need
