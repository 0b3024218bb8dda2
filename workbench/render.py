"""The display pipeline, free of Qt: a resolution pyramid of the native scan and tile rendering.

Native pixels are never changed: the pyramid holds mean-pooled copies at the
scan's own depth (uint16 stays uint16), and a tile is mapped to 8-bit RGB only
when it is about to be drawn. A window/level change therefore costs one LUT
lookup per *visible* pixel, whatever the scan's size.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from datasets.display import auto_window, material_rgb, window_lut

TILE = 256
MODES = ("high", "low", "fused", "material", "colour")  # "colour": an RGB scan (pseudo-colour) as it is


def modes_for(pixels: np.ndarray) -> tuple[str, ...]:
    """The views a scan offers: energies and material colour for a dual-energy pair, colour for an RGB
    picture (never read as two energies), grey for one channel. The first is the default."""
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    if c == 2:
        return ("material", "high", "low", "fused")
    if c >= 3:
        return ("colour", "high")
    return ("high",)


def halve(a: np.ndarray) -> np.ndarray:
    """2x2 mean pooling at native depth (odd edges dropped)."""
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    b = a[:h, :w]
    if b.ndim == 2:
        b = b[..., None]
    out = cv2.resize(np.ascontiguousarray(b), (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return out[..., None] if out.ndim == 2 else out


class Pyramid:
    """Level 0 is the scan (often a memory map); level k is 2^k times smaller, built off the GUI thread."""

    def __init__(self, pixels: np.ndarray, smallest: int = 256):
        px = pixels[..., None] if pixels.ndim == 2 else pixels
        self.levels: list[np.ndarray] = [px]
        self.smallest = smallest
        self.preview: np.ndarray | None = None
        self.preview_step = 1
        self._lock = threading.Lock()
        self.done = threading.Event()

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.levels[0].shape

    def make_preview(self, target: int = 1024) -> None:
        """A strided sample for the first frame, long side about ``target`` px (fast even on huge scans)."""
        h, w = self.shape[:2]
        step = max(1, int(np.ceil(max(h, w) / target)))
        self.preview_step = step
        self.preview = np.ascontiguousarray(self.levels[0][::step, ::step])

    def build(self, cancel: threading.Event | None = None) -> None:
        cur = self.levels[0]
        while max(cur.shape[:2]) > self.smallest and min(cur.shape[:2]) >= 2:
            if cancel is not None and cancel.is_set():
                return
            cur = halve(cur)
            with self._lock:
                self.levels.append(cur)
        self.done.set()

    def best(self, level: int) -> tuple[int, np.ndarray]:
        """The finest level >= ``level`` that exists (during the build, level 0 always does)."""
        with self._lock:
            if level < len(self.levels):
                return level, self.levels[level]
            if level == 0 or len(self.levels) == 1:
                return 0, self.levels[0]
            return len(self.levels) - 1, self.levels[-1]


@dataclass(frozen=True)
class Display:
    """How raw values become screen colours. Immutable: a change makes a new one (and new tiles)."""

    mode: str = "high"
    window: tuple[float, float] = (0.0, 65535.0)
    invert: bool = False
    gamma: float = 1.0
    strip: str | None = None   # "organic" | "inorganic" (material mode)
    enhance: bool = False      # local contrast (CLAHE)
    i0: tuple[float, float] = (65535.0, 65535.0)
    dark: float = 0.0
    regime: str = "kv"
    max_value: int = 65535
    lut: np.ndarray | None = field(default=None, compare=False, repr=False)
    lut32: np.ndarray | None = field(default=None, compare=False, repr=False)

    def with_lut(self) -> Display:
        lut = window_lut(*self.window, invert=self.invert, gamma=self.gamma, size=self.max_value + 1)
        return replace(self, lut=lut, lut32=(lut.astype(np.uint32) * 0x010101) | np.uint32(0xFF000000))

    def change(self, **kw) -> Display:
        return replace(self, **kw, lut=None).with_lut()


def default_display(pixels: np.ndarray, meta: dict | None, bit_depth: int) -> Display:
    meta = meta or {}
    mode = modes_for(pixels)[0]
    high = pixels[..., 0] if pixels.ndim == 3 else pixels
    i0 = tuple(float(v) for v in meta.get("i0", [2 ** bit_depth - 1] * 2))[:2]
    if len(i0) == 1:
        i0 = (i0[0], i0[0])
    return Display(mode=mode, window=auto_window(high), i0=i0, dark=float(meta.get("dark", 0.0)),
                   regime=str(meta.get("regime", "kv")), max_value=(1 << bit_depth) - 1 if bit_depth <= 16 else 65535
                   ).with_lut()


def _gray_channel(raw: np.ndarray, d: Display) -> np.ndarray | None:
    """The one channel a grey view maps; None for colour views (material colour, colour scans)."""
    dual = raw.shape[2] == 2
    if (d.mode == "material" and dual) or (raw.shape[2] >= 3 and d.mode != "high"):
        return None
    if dual and d.mode == "low":
        return raw[..., 1]
    if dual and d.mode == "fused":
        return ((raw[..., 0].astype(np.uint32) + raw[..., 1]) // 2).astype(raw.dtype)
    return raw[..., 0]


def _lookup(ch: np.ndarray, lut: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    fits = (ch.dtype == np.uint16 and len(lut) == 65536) or (ch.dtype == np.uint8 and len(lut) >= 256)
    return np.take(lut, ch if fits else np.minimum(ch, len(lut) - 1), out=out)


def render(raw: np.ndarray, d: Display) -> np.ndarray:
    """(h, w, C) raw pixels -> (h, w, 3) uint8 RGB for the screen."""
    ch = _gray_channel(raw, d)
    if ch is not None:
        g = _lookup(ch, d.lut if d.lut is not None else d.with_lut().lut)
        if d.enhance:
            g = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(4, 4)).apply(g)
        return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))
    if raw.shape[2] >= 3:  # a colour (pseudo-colour) scan: shown as it is, at 8 bits
        rgb = raw[..., :3]
        if rgb.dtype != np.uint8:
            rgb = (np.minimum(rgb, d.max_value).astype(np.float32) * (255.0 / d.max_value)).astype(np.uint8)
        return np.ascontiguousarray(255 - rgb if d.invert else rgb)
    rgb = material_rgb(raw[..., 0], raw[..., 1], d.i0, d.dark, d.regime, d.strip)
    if d.invert:
        rgb = 255 - rgb
    if d.enhance:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
        lab[..., 0] = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(4, 4)).apply(lab[..., 0])
        rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return np.ascontiguousarray(rgb)


def render_argb(raw: np.ndarray, d: Display, out: np.ndarray | None = None) -> np.ndarray:
    """(h, w, C) raw -> (h, w) uint32 0xFFRRGGBB, the format Qt's raster engine draws fastest.

    Grey views are one lookup in a 32-bit LUT per pixel; colour views pack RGB. ``out`` (an (h, w) uint32
    array) is written in place: a window/level change then maps into the tiles' own buffers instead of
    fresh memory, whose page faults cost more than the lookup itself.
    """
    ch = _gray_channel(raw, d)
    if ch is not None and not d.enhance:
        if d.gamma == 1.0 and ch.dtype in (np.uint8, np.uint16) and out is not None:
            return _linear_argb(ch, d, out)
        return _lookup(ch, d.lut32 if d.lut32 is not None else d.with_lut().lut32, out)
    rgb = render(raw, d)
    if out is None:
        out = np.empty(rgb.shape[:2], np.uint32)
    v = out.view(np.uint8).reshape(*rgb.shape[:2], 4)
    v[..., 0], v[..., 1], v[..., 2], v[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
    return out


def _linear_argb(ch: np.ndarray, d: Display, out: np.ndarray) -> np.ndarray:
    """A linear window (gamma 1) in three SIMD passes of OpenCV: subtract the low end (saturating at 0),
    scale to 0..255 (saturating), spread grey to BGRA. About twice as fast as the 64k-entry lookup, which numpy
    runs through 8-byte indices; equal to it but for a rounding step in about 0.2 % of pixels (one grey level)."""
    lo, hi = d.window
    g = cv2.convertScaleAbs(cv2.subtract(ch, float(lo)), alpha=255.0 / max(hi - lo, 1e-6))
    if d.invert:
        cv2.bitwise_not(g, dst=g)
    cv2.cvtColor(g, cv2.COLOR_GRAY2BGRA, dst=out.view(np.uint8).reshape(*out.shape, 4))
    return out


def level_for(scale: float) -> int:
    """Pyramid level to draw at a view scale (screen px per scan px).

    Rounded, not floored: a level is drawn at 0.71x to 1.41x, so a repaint maps
    at most twice the screen's pixels (flooring allows four times).
    """
    if scale >= 0.75:
        return 0
    return max(0, int(np.round(np.log2(1.0 / scale))))
