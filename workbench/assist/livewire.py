"""Live wire (intelligent scissors): the outline between two anchors follows the cheapest path along edges.

OpenCV's ``IntelligentScissorsMB`` builds a cost map from one anchor over a picture; building it on a whole
2048 x 2048 scan takes over a second, on a 512 x 512 crop about 50 ms, so the map is built on a crop around
the anchor and rebuilt (larger, up to ``MAX_CROP``) only when the cursor leaves it. Beyond that the segment
is a straight line, as in a plain polygon.
"""
from __future__ import annotations

import cv2
import numpy as np

from workbench.assist.signal import ScanSignal, to_u8

CROP = 512
MAX_CROP = 1536


class LiveWire:
    """Anchors in scan coordinates; ``path_to`` gives the snapped segment from the last anchor."""

    def __init__(self, signal: ScanSignal, crop: int = CROP):
        self.signal, self.crop = signal, crop
        self.anchors: list[tuple[int, int]] = []
        self.points: list[np.ndarray] = []   # fixed segments, (N, 2) int each, anchor to anchor
        self._tool = None
        self._box: tuple[int, int, int, int] | None = None

    # -- the cost map of the last anchor
    def _build(self, x: int, y: int, tx: int | None = None, ty: int | None = None) -> None:
        ax, ay = self.anchors[-1]
        half = self.crop // 2
        if tx is not None:  # the crop must hold the anchor and the target
            half = min(MAX_CROP // 2, max(half, abs(tx - ax) // 2 + 64, abs(ty - ay) // 2 + 64))
            cx, cy = (ax + tx) // 2, (ay + ty) // 2
        else:
            cx, cy = ax, ay
        box = self.signal.box(cx, cy, half)
        win = self.signal.window(*box)
        tool = cv2.segmentation.IntelligentScissorsMB()
        tool.setEdgeFeatureCannyParameters(16, 64)
        tool.setGradientMagnitudeMaxLimit(200)
        tool.applyImage(to_u8(cv2.GaussianBlur(win.data, (0, 0), 1.0).reshape(win.data.shape)))
        tool.buildMap((ax - box[0], ay - box[1]))
        self._tool, self._box = tool, box

    def _inside(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self._box
        return x0 <= x < x1 and y0 <= y < y1

    def add_anchor(self, x: float, y: float) -> None:
        """Fix the segment to (x, y) and make it the next anchor."""
        p = self._clip(x, y)
        if self.anchors:
            self.points.append(self.path_to(*p))
        self.anchors.append(p)
        self._tool = None

    def path_to(self, x: float, y: float) -> np.ndarray:
        """(N, 2) int pixels from the last anchor to (x, y), snapped to edges."""
        tx, ty = self._clip(x, y)
        ax, ay = self.anchors[-1]
        if self._tool is None or not self._inside(tx, ty):
            self._build(ax, ay, tx, ty)
        if not self._inside(tx, ty):  # too far for a map: a straight segment
            return np.array([[ax, ay], [tx, ty]], np.int32)
        x0, y0 = self._box[:2]
        c = self._tool.getContour((tx - x0, ty - y0)).reshape(-1, 2)
        return (c + [x0, y0]).astype(np.int32)

    def close(self) -> np.ndarray:
        """The closed outline: the fixed segments plus the way back to the first anchor, simplified."""
        if len(self.anchors) < 2:
            return np.zeros((0, 2), np.int32)
        back = self.path_to(*self.anchors[0])
        pts = np.concatenate([*self.points, back])
        return simplify(pts)

    def outline(self) -> np.ndarray:
        """The fixed segments so far (for the preview)."""
        return np.concatenate(self.points) if self.points else np.array(self.anchors[:1], np.int32).reshape(-1, 2)

    def undo(self) -> None:
        if self.anchors:
            self.anchors.pop()
            if self.points:
                self.points.pop()
            self._tool = None

    def _clip(self, x: float, y: float) -> tuple[int, int]:
        return (int(np.clip(round(x), 0, self.signal.width - 1)), int(np.clip(round(y), 0, self.signal.height - 1)))


def simplify(points: np.ndarray, epsilon: float = 0.7) -> np.ndarray:
    """Pixel path -> polygon vertices within ``epsilon`` px of it (a 1 000-pixel outline keeps its corners,
    not its 1 000 points); consecutive duplicates removed."""
    p = np.asarray(points, np.int32).reshape(-1, 1, 2)
    if len(p) < 3:
        return p.reshape(-1, 2)
    q = cv2.approxPolyDP(p, epsilon, True).reshape(-1, 2)
    keep = np.r_[True, (np.diff(q, axis=0) != 0).any(axis=1)]
    return q[keep]
