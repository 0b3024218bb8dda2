"""Masks as patches of a scan: a bool array and where its top-left pixel lies, combined without ever
allocating a scan-sized array (a scan may be 2048 x 50 000 px)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Patch:
    mask: np.ndarray  # (h, w) bool
    x0: int
    y0: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        h, w = self.mask.shape
        return self.x0, self.y0, self.x0 + w, self.y0 + h

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def cut(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """This mask inside ``box`` (x0, y0, x1, y1), zeros elsewhere."""
        x0, y0, x1, y1 = box
        out = np.zeros((y1 - y0, x1 - x0), bool)
        a0, b0, a1, b1 = self.box
        sx0, sy0, sx1, sy1 = max(x0, a0), max(y0, b0), min(x1, a1), min(y1, b1)
        if sx1 > sx0 and sy1 > sy0:
            out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = self.mask[sy0 - b0:sy1 - b0, sx0 - a0:sx1 - a0]
        return out

    def tight(self) -> Patch | None:
        """The same mask cropped to its set pixels; None when empty."""
        ys, xs = np.nonzero(self.mask)
        if not len(ys):
            return None
        return Patch(self.mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].copy(), self.x0 + int(xs.min()),
                     self.y0 + int(ys.min()))


def _union_box(a: Patch, b: Patch) -> tuple[int, int, int, int]:
    return min(a.x0, b.x0), min(a.y0, b.y0), max(a.box[2], b.box[2]), max(a.box[3], b.box[3])


def union(a: Patch | None, b: Patch | None) -> Patch | None:
    if a is None or b is None:
        return a or b
    box = _union_box(a, b)
    return Patch(a.cut(box) | b.cut(box), box[0], box[1]).tight()


def minus(a: Patch | None, b: Patch | None) -> Patch | None:
    if a is None or b is None:
        return a
    return Patch(a.mask & ~b.cut(a.box), a.x0, a.y0).tight()


def iou(a: Patch | None, b: Patch | None) -> float:
    if a is None or b is None:
        return 0.0
    box = _union_box(a, b)
    ma, mb = a.cut(box), b.cut(box)
    u = int((ma | mb).sum())
    return int((ma & mb).sum()) / u if u else 0.0


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every hole closed (what the border cannot reach from outside)."""
    m = np.pad(mask.astype(np.uint8), 1)
    ff = m.copy()
    cv2.floodFill(ff, np.zeros((m.shape[0] + 2, m.shape[1] + 2), np.uint8), (0, 0), 1)
    return (mask | (ff[1:-1, 1:-1] == 0))


def polygon_patch(points: np.ndarray) -> Patch | None:
    """A closed polygon (N, 2) in scan coordinates (pixel centres at integers) rasterised as a patch."""
    p = np.asarray(points, float)
    if len(p) < 3:
        return None
    x0, y0 = int(np.floor(p[:, 0].min())), int(np.floor(p[:, 1].min()))
    x1, y1 = int(np.ceil(p[:, 0].max())) + 1, int(np.ceil(p[:, 1].max())) + 1
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    q = np.round((p - [x0, y0]) * 4).astype(np.int32)
    cv2.fillPoly(m, [q.reshape(-1, 1, 2)], 1, cv2.LINE_8, 2)
    return Patch(m.astype(bool), x0, y0).tight()
