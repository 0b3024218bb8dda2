"""What assisted tools look at: per-channel attenuation of a window of the scan, in float32.

Counts become attenuation -ln((I - dark) / I0) per energy (the same physics the models see), so "similar
material" means similar attenuation in both energies, whatever the bit depth; a pseudo-colour picture gives
its darkness per channel instead. Only the window around a gesture is converted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """A part of a scan: ``data`` (h, w, C) float32 whose top-left pixel is scan pixel (x0, y0)."""

    data: np.ndarray
    x0: int
    y0: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape[:2]

    def local(self, x: float, y: float) -> tuple[int, int]:
        """Scan coordinates to window pixel (column, row), clipped inside."""
        h, w = self.shape
        return int(np.clip(int(x) - self.x0, 0, w - 1)), int(np.clip(int(y) - self.y0, 0, h - 1))


@dataclass(frozen=True)
class ScanSignal:
    """A scan's pixels at native depth and how to turn them into attenuation."""

    pixels: np.ndarray          # (H, W) or (H, W, C) counts or colour, any integer depth (memory-mapped is fine)
    i0: tuple[float, ...]       # open beam per channel
    dark: float = 0.0
    colour: bool = False        # a pseudo-colour picture: darkness 1 - value / full scale instead
    i0_from_file: bool = True   # False: the file said nothing, i0 is the full scale of the bit depth
    layout: str = ""            # the scan's layout (dual, gray, rgb), for a model's input check
    bit_depth: int = 16

    @classmethod
    def of_scan(cls, scan) -> ScanSignal:
        """From a ``datasets.scanio.Scan``: I0 and dark from the file, else the full scale of its depth."""
        px = scan.pixels
        c = 1 if px.ndim == 2 else px.shape[2]
        full = float(np.iinfo(px.dtype).max) if px.dtype.kind in "ui" else 1.0
        meta = scan.meta or {}
        i0 = [float(v) for v in meta.get("i0", [])][:c] or [full]
        i0 += [i0[-1]] * (c - len(i0))
        return cls(px, tuple(i0), float(meta.get("dark", 0.0)), scan.info.layout == "rgb", "i0" in meta,
                   scan.info.layout, scan.info.bit_depth)

    def kind(self) -> tuple[str, int]:
        """(layout, bit depth): as the file said, else from the array (channels, dtype)."""
        px = self.pixels
        c = 1 if px.ndim == 2 else px.shape[2]
        layout = self.layout or ("rgb" if self.colour else {1: "gray", 2: "dual"}.get(c, "rgb"))
        return layout, (self.bit_depth if self.layout else px.dtype.itemsize * 8)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def box(self, x: float, y: float, half: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of a window of about 2*half px centred on (x, y), inside the scan."""
        w, h = self.width, self.height
        x0 = int(np.clip(int(x) - half, 0, max(0, w - 2 * half)))
        y0 = int(np.clip(int(y) - half, 0, max(0, h - 2 * half)))
        return x0, y0, min(w, x0 + 2 * half), min(h, y0 + 2 * half)

    def window(self, x0: int, y0: int, x1: int, y1: int) -> Window:
        px = np.asarray(self.pixels[y0:y1, x0:x1])
        px = px[..., None] if px.ndim == 2 else px
        c = np.array(px, dtype=np.float32, order="C")  # (a two-page TIFF maps channel-major: made row-major)
        if self.colour:
            full = float(np.iinfo(px.dtype).max) if px.dtype.kind in "ui" else 1.0
            return Window(1.0 - c / np.float32(full), x0, y0)
        i0 = np.asarray(self.i0, np.float32)[: c.shape[2]]
        if len(i0) < c.shape[2]:
            i0 = np.concatenate([i0, np.repeat(i0[-1:], c.shape[2] - len(i0))])
        if self.dark:
            c -= np.float32(self.dark)
        np.maximum(c, 1.0, out=c)
        c *= 1.0 / i0
        np.log(c, out=c)  # in place: a 2048² window makes no temporaries
        np.negative(c, out=c)
        np.maximum(c, 0.0, out=c)
        return Window(c, x0, y0)

    def around(self, x: float, y: float, half: int) -> Window:
        return self.window(*self.box(x, y, half))


def to_u8(data: np.ndarray, lo_pct: float = 0.5, hi_pct: float = 99.5) -> np.ndarray:
    """(h, w, C) float -> (h, w, 1 or 3) uint8 stretched per channel over the window's own range: edge
    detectors want 8 bits; the scan keeps its depth, this picture is thrown away after the gesture."""
    if data.shape[2] == 2:  # dual energy: the two energies and their difference (the material signal)
        data = np.concatenate([data, data[..., 1:2] - data[..., 0:1]], axis=2)
    elif data.shape[2] > 3:
        data = data[..., :3]
    out = np.empty(data.shape, np.uint8)
    for c in range(data.shape[2]):
        ch = data[..., c]
        lo, hi = np.percentile(ch, [lo_pct, hi_pct])
        out[..., c] = np.clip((ch - lo) * (255.0 / max(hi - lo, 1e-6)), 0, 255).astype(np.uint8)
    return out
