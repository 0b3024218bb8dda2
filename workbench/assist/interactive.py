"""Click-to-segment without Qt: the clicks of one object, the window they are judged in, and the mask.

A backend is anything that turns a window of the scan and clicks into an object probability
(``ClickBackend``): the project's own click model (``workbench/click_model.py``), or another model a lab has
on disk, added without touching the tool.
"""
from __future__ import annotations

import time
from typing import Protocol

import cv2
import numpy as np

from workbench.assist.masks import Patch
from workbench.assist.signal import ScanSignal

WINDOW = 256       # px around the clicks the model sees first: about the context of its training crops
WINDOW_MAX = 512   # grown (x2) once when the object reaches the window's edge: at most the old fixed window

Click = tuple[int, int, bool]  # (x, y, positive), scan pixels


class ClickBackend(Protocol):
    source: str  # whom a region it made is credited to (provenance), e.g. "model:bags-click/3"

    def probabilities(self, signal: ScanSignal, box: tuple[int, int, int, int], clicks: list[Click]) -> np.ndarray:
        """(y1 - y0, x1 - x0) float object probability over ``box`` of the scan, clicks in window pixels."""


def window_for(signal: ScanSignal, clicks: list[Click], size: int = WINDOW) -> tuple[int, int, int, int]:
    """A box of at least ``size`` px around all clicks (with ``size`` / 4 of room), inside the scan."""
    xs, ys = [c[0] for c in clicks], [c[1] for c in clicks]
    half = max(size // 2, (max(xs) - min(xs)) // 2 + size // 4, (max(ys) - min(ys)) // 2 + size // 4)
    return signal.box((min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2, half)


class ClickSession:
    """One object being clicked: each click re-asks the backend in the same window and keeps the parts of the
    mask that hold a positive click. The window starts small (fast, and the context the model learnt from)
    and grows when a click falls outside it or the object reaches its edge where the scan goes on."""

    def __init__(self, signal: ScanSignal, backend: ClickBackend, size: int = WINDOW, max_size: int = WINDOW_MAX):
        self.signal, self.backend, self.size, self.max_size = signal, backend, size, max(size, max_size)
        self.clicks: list[Click] = []
        self.box: tuple[int, int, int, int] | None = None
        self.patch: Patch | None = None
        self.seconds = 0.0

    def add(self, x: float, y: float, positive: bool) -> Patch | None:
        if not (0 <= x < self.signal.width and 0 <= y < self.signal.height):
            return self.patch
        self.clicks.append((int(x), int(y), positive))
        return self._run()

    def undo(self) -> Patch | None:
        if self.clicks:
            self.clicks.pop()
        return self._run() if self.clicks else None

    def _run(self) -> Patch | None:
        x0, y0, x1, y1 = self.box or (0, 0, 0, 0)
        if self.box is None or any(not (x0 <= x < x1 and y0 <= y < y1) for x, y, _ in self.clicks):
            self.box = window_for(self.signal, self.clicks, self.size)
        t = time.perf_counter()
        while True:
            x0, y0, x1, y1 = self.box
            local = [(x - x0, y - y0, p) for x, y, p in self.clicks]
            mask = keep_clicked(self.backend.probabilities(self.signal, self.box, local) > 0.5, local)
            if self.size >= self.max_size or not self._cut_off(mask):
                break
            self.size = min(self.size * 2, self.max_size)  # the object goes on past the window: look wider
            self.box = window_for(self.signal, self.clicks, self.size)
        self.seconds = time.perf_counter() - t
        self.patch = Patch(mask, x0, y0).tight()
        return self.patch

    def _cut_off(self, mask: np.ndarray) -> bool:
        """Whether the mask reaches an edge of the window that is not the scan's edge."""
        x0, y0, x1, y1 = self.box
        return bool((mask[:, 0].any() and x0 > 0) or (mask[:, -1].any() and x1 < self.signal.width)
                    or (mask[0].any() and y0 > 0) or (mask[-1].any() and y1 < self.signal.height))


def keep_clicked(mask: np.ndarray, clicks: list[Click]) -> np.ndarray:
    """The connected parts of ``mask`` under a positive click (a click model may light up lookalikes
    elsewhere in the window; the annotator asked for this object)."""
    n, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = {int(lab[y, x]) for x, y, p in clicks if p and 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]}
    keep.discard(0)
    return np.isin(lab, list(keep)) if keep else np.zeros_like(mask, bool)
