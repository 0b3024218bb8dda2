"""Magic wand: the connected area of similar attenuation around a click.

"Similar" is per channel: every energy's attenuation (-ln I/I0) within ``tolerance`` times the attenuation
at the click (the mean of 5 x 5 px), so a dual-energy scan separates materials a grey picture would merge.
Relative, because attenuation adds up along a ray: an object lying over clutter varies in proportion to
what it lies on (synthetic bags, best-tolerance IoU of one click: 0.54 relative, 0.21 absolute).
The scan is smoothed a little first (quantum noise would fray the edge) and holes inside the result are
closed (an object's own texture is part of it). Work is done on a 512 px window around the click, grown
once to 2048 px when the area reaches its border.
"""
from __future__ import annotations

import cv2
import numpy as np

from workbench.assist.masks import Patch, fill_holes
from workbench.assist.signal import ScanSignal, Window

TOLERANCES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7)  # what a drag steps through, and the robot tries
DEFAULT_TOLERANCE = 0.2
HALF = 256        # first window: 512 x 512 px around the click
MAX_HALF = 1024   # then 2048 x 2048 at most: an area larger than that is not one object


def grow(win: Window, x: float, y: float, tolerance: float, smooth: float = 1.0) -> np.ndarray:
    """Bool mask over ``win`` of the area connected to scan point (x, y) within ``tolerance``."""
    d = win.data
    if smooth > 0:
        d = cv2.GaussianBlur(d, (0, 0), smooth)
        d = d[..., None] if d.ndim == 2 else d
    cx, cy = win.local(x, y)
    ref = d[max(0, cy - 2):cy + 3, max(0, cx - 2):cx + 3].reshape(-1, d.shape[2]).mean(0)
    tol = tolerance * np.maximum(ref, 0.05)
    similar = cv2.inRange(d, ref - tol, ref + tol)  # every channel within its band (255), in one pass
    similar[cy, cx] = 255
    m = part_at(similar, cx, cy)
    # an opening cuts the one-pixel bridges through which noise lets the area leak; thin objects (wires,
    # blades) that it would erase keep their unopened area
    opened = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if opened[cy, cx]:
        m = part_at(opened, cx, cy)
    return fill_holes(m)


def part_at(mask: np.ndarray, cx: int, cy: int) -> np.ndarray:
    """The 4-connected part of ``mask`` holding pixel (cx, cy)."""
    h, w = mask.shape
    ff = np.zeros((h + 2, w + 2), np.uint8)
    cv2.floodFill(mask.astype(np.uint8), ff, (cx, cy), 2, 0, 0, 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8))
    return ff[1:-1, 1:-1].astype(bool)


def wand(signal: ScanSignal, x: float, y: float, tolerance: float = DEFAULT_TOLERANCE,
         half: int = HALF) -> Patch | None:
    """The wand's area around scan point (x, y) as a patch in scan coordinates; None outside the scan."""
    if not (0 <= x < signal.width and 0 <= y < signal.height):
        return None
    while True:
        win = signal.around(x, y, half)
        m = grow(win, x, y, tolerance)
        h, w = m.shape
        touches = m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()
        whole = (h >= signal.height and w >= signal.width)
        if not touches or whole or half >= MAX_HALF:
            return Patch(m, win.x0, win.y0).tight()
        half = MAX_HALF


def step(tolerance: float, steps: float) -> float:
    """The tolerance ``steps`` notches up (or down) the scale, for a drag."""
    t = np.asarray(TOLERANCES)
    i = float(np.interp(tolerance, t, np.arange(len(t)))) + steps
    return float(np.interp(np.clip(i, 0, len(t) - 1), np.arange(len(t)), t))
