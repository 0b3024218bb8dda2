"""Superpixels of the visible part of a scan, for a brush that paints whole superpixels.

SLIC (scikit-image) over the attenuation of the window, each channel stretched to its own range; a window
larger than ``MAX_PX`` pixels is averaged down first (a zoomed-out view of a 2048 x 8192 scan), and the
labels are scaled back when painted. Computed in the background by the tool; cut to a stroke here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from workbench.assist.masks import Patch
from workbench.assist.signal import ScanSignal

MAX_PX = 1024 * 1024
SIZE = 20  # px of a superpixel's side, at the scale computed


@dataclass(frozen=True)
class SuperpixelMap:
    labels: np.ndarray                 # (h, w) int32 at 1/``factor`` scale
    box: tuple[int, int, int, int]     # scan pixels covered (x0, y0, x1, y1)
    factor: int

    def covers(self, box: tuple[int, int, int, int]) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= box[0] and y0 <= box[1] and box[2] <= x1 and box[3] <= y1

    def fill(self, stroke: Patch) -> Patch | None:
        """Every superpixel the stroke touches, as a patch in scan pixels (cut to the map)."""
        x0, y0, x1, y1 = self.box
        f = self.factor
        sx0, sy0, sx1, sy1 = stroke.box
        bx0, by0 = max(x0, sx0), max(y0, sy0)
        bx1, by1 = min(x1, sx1), min(y1, sy1)
        if bx1 <= bx0 or by1 <= by0:
            return None
        m = stroke.cut((bx0, by0, bx1, by1))
        ys, xs = np.nonzero(m)
        touched = np.unique(self.labels[np.minimum((ys + by0 - y0) // f, self.labels.shape[0] - 1),
                                        np.minimum((xs + bx0 - x0) // f, self.labels.shape[1] - 1)])
        if not len(touched):
            return None
        small = np.isin(self.labels, touched).astype(np.uint8)
        full = cv2.resize(small, (small.shape[1] * f, small.shape[0] * f), interpolation=cv2.INTER_NEAREST)
        return Patch(full[: y1 - y0, : x1 - x0].astype(bool), x0, y0).tight()


def compute(signal: ScanSignal, box: tuple[int, int, int, int], size: int = SIZE) -> SuperpixelMap:
    """Superpixels of about ``size`` px over ``box`` of the scan."""
    from skimage.segmentation import slic

    x0, y0, x1, y1 = box
    win = signal.window(x0, y0, x1, y1).data
    h, w = win.shape[:2]
    f = max(1, math.ceil(math.sqrt(h * w / MAX_PX)))
    small = cv2.resize(win, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1 else win
    small = small.reshape(small.shape[0], small.shape[1], -1)
    lo = np.percentile(small, 1, axis=(0, 1))
    hi = np.percentile(small, 99, axis=(0, 1))
    img = np.clip((small - lo) / np.maximum(hi - lo, 1e-6), 0, 1).astype(np.float32)
    n = max(1, small.shape[0] * small.shape[1] // (size * size))
    labels = slic(img, n_segments=n, compactness=0.1, channel_axis=-1, start_label=0, enforce_connectivity=True)
    return SuperpixelMap(labels.astype(np.int32), (x0, y0, x0 + small.shape[1] * f if f > 1 else x1,
                                                   y0 + small.shape[0] * f if f > 1 else y1), f)
