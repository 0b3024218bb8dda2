"""Display mapping of native scans (numpy only; the workbench and reports use it).

Nothing here changes data: these functions map 16-bit counts to 8-bit or RGB
for a screen, a screenshot or a report overlay.
- ``window_lut``: window/level (+ invert, gamma) as a 65,536-entry lookup table,
  so re-mapping a view is one ``np.take`` per visible pixel.
- ``material_rgb``: the screener's pseudo-colour for dual-energy scans, from the
  ratio R = A_high / A_low (see datasets.synth.physics): organic orange,
  inorganic green, metal blue, brightness from the high-energy transmission.
"""
from __future__ import annotations

import numpy as np

from datasets.calibration import attenuation

ORGANIC = np.array([255, 150, 40], np.float32)
INORGANIC = np.array([70, 200, 70], np.float32)
METAL = np.array([40, 90, 255], np.float32)
# R of organic and of metal per regime; inorganic lies between
R_RANGE = {"kv": (0.76, 0.22), "mv": (0.70, 0.82)}


def window_lut(low: float, high: float, invert: bool = False, gamma: float = 1.0, size: int = 65536) -> np.ndarray:
    """uint8 LUT mapping raw values in [low, high] to 0..255."""
    x = np.arange(size, dtype=np.float32)
    t = np.clip((x - low) / max(high - low, 1e-6), 0, 1)
    if gamma != 1.0:
        t = t ** (1.0 / gamma)
    if invert:
        t = 1 - t
    return np.rint(t * 255).astype(np.uint8)


def auto_window(a: np.ndarray, lo_pct: float = 0.5, hi_pct: float = 99.5) -> tuple[float, float]:
    sample = a[:: max(1, a.shape[0] // 256), :: max(1, a.shape[1] // 256)]
    lo, hi = np.percentile(sample, [lo_pct, hi_pct])
    return float(lo), float(max(hi, lo + 1))


def material_rgb(high: np.ndarray, low: np.ndarray, i0=(65535.0, 65535.0), dark: float = 0.0,
                 regime: str = "kv", strip: str | None = None) -> np.ndarray:
    """(H, W, 3) uint8 material colouring of a dual-energy pair of counts.

    ``strip``: ``"organic"`` or ``"inorganic"`` paints that material class white,
    as screening consoles do to make what is left stand out.
    """
    ah = attenuation(high, i0[0], dark)
    al = attenuation(low, i0[1], dark)
    r = ah / np.maximum(al, 1e-3)
    r_org, r_met = R_RANGE.get(regime, R_RANGE["kv"])
    t = np.clip((r - r_org) / (r_met - r_org), 0, 1)
    # organic -> inorganic for t in [0, .5], inorganic -> metal for [.5, 1]
    t2 = t[..., None]
    col = np.where(t2 < 0.5, ORGANIC + (INORGANIC - ORGANIC) * (t2 * 2), INORGANIC + (METAL - INORGANIC) * (t2 * 2 - 1))
    trans = np.exp(-ah)[..., None]
    bright = trans ** 0.5
    # thin material fades to white (air), thick to dark
    weight = np.clip(al / 0.15, 0, 1)[..., None]
    rgb = (255 * (1 - weight) + col * weight) * bright
    if strip == "organic":
        rgb[t < 1 / 3] = 255
    elif strip == "inorganic":
        rgb[(t >= 1 / 3) & (t < 2 / 3)] = 255
    return np.clip(rgb, 0, 255).astype(np.uint8)


def gray8(a: np.ndarray, window: tuple[float, float] | None = None, invert: bool = False) -> np.ndarray:
    lo, hi = window or auto_window(a)
    if a.dtype == np.uint16:
        return np.take(window_lut(lo, hi, invert), a)
    t = np.clip((a.astype(np.float32) - lo) / (hi - lo), 0, 1)
    return np.rint((1 - t if invert else t) * 255).astype(np.uint8)
