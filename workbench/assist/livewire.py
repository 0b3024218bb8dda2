"""Live wire (intelligent scissors): the outline between two anchors follows the cheapest path along edges.

OpenCV's ``IntelligentScissorsMB`` builds a cost map from one anchor over a picture; building it on a whole
2048 x 2048 scan takes over a second, on a 512 x 512 crop about 50 ms, so the map is built on the corridor
between the anchor and the cursor and rebuilt only when the cursor leaves it. Beyond ``MAX_CROP`` the
segment is a straight line, as in a plain polygon.
"""
from __future__ import annotations

import cv2
import numpy as np

from workbench.assist.signal import ScanSignal, to_u8

MARGIN = 24     # px the wire may stray beside the line from the anchor to the cursor
MAX_CROP = 1536  # beyond this a segment is straight


class LiveWire:
    """Anchors in scan coordinates; ``path_to`` gives the snapped segment from the last anchor."""

    def __init__(self, signal: ScanSignal):
        self.signal = signal
        self.anchors: list[tuple[int, int]] = []
        self.points: list[np.ndarray] = []   # fixed segments, (N, 2) int each, anchor to anchor
        self._tool = None
        self._box: tuple[int, int, int, int] | None = None

    # -- the cost map of the last anchor
    def _build(self, tx: int, ty: int) -> None:
        """The cost map of the last anchor over the corridor to (tx, ty): their bounding box grown by a third
        of their distance (at least ``MARGIN`` px), so the wire cannot wander off along clutter far from
        where the annotator points, and a map costs what the segment needs."""
        ax, ay = self.anchors[-1]
        m = int(max(MARGIN, 0.33 * float(np.hypot(tx - ax, ty - ay))))
        x0, y0 = max(0, min(ax, tx) - m), max(0, min(ay, ty) - m)
        x1, y1 = min(self.signal.width, max(ax, tx) + m + 1), min(self.signal.height, max(ay, ty) + m + 1)
        if max(x1 - x0, y1 - y0) > MAX_CROP:
            self._tool, self._box = None, (x0, y0, x1, y1)
            return
        win = self.signal.window(x0, y0, x1, y1)
        tool = cv2.segmentation.IntelligentScissorsMB()
        tool.setEdgeFeatureCannyParameters(16, 64)
        tool.setGradientMagnitudeMaxLimit(200)
        tool.applyImage(to_u8(cv2.GaussianBlur(win.data, (0, 0), 1.0).reshape(win.data.shape)))
        tool.buildMap((ax - x0, ay - y0))
        self._tool, self._box = tool, (x0, y0, x1, y1)

    def _inside(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self._box
        return x0 <= x < x1 and y0 <= y < y1

    def add_anchor(self, x: float, y: float) -> None:
        """Fix the segment to (x, y) and make it the next anchor."""
        p = self._clip(x, y)
        if self.anchors:
            self.points.append(self.path_to(*p))
        self.anchors.append(p)
        self._tool, self._box = None, None

    def path_to(self, x: float, y: float) -> np.ndarray:
        """(N, 2) int pixels from the last anchor to (x, y), snapped to edges."""
        tx, ty = self._clip(x, y)
        ax, ay = self.anchors[-1]
        if self._box is None or not self._inside(tx, ty):
            self._build(tx, ty)
        if self._tool is None:  # too far for a map: a straight segment
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
            self._tool, self._box = None, None

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
