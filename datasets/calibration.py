"""Calibration facts of a transmission scan, held once for the display, training, inference and TIP.

A detector reads I = I0 · exp(-∫μ dl) + dark (Beer–Lambert), so the attenuation a model or a screener's
colouring needs is A = -ln((I - dark) / I0): it takes the open-beam level I0 of each energy channel and the
dark level. A file that carries them (``Scan.meta["i0"]``, ``["dark"]``: the synthetic generator, DICOS) is
taken at its word; a file that does not is assumed to have its open beam at the full scale of its bit depth
and no dark offset, which is what line scanners that write plain TIFFs do.

CT values are stored the DICOM way: native integers plus a rescale (``meta["rescale"] = (slope, intercept)``,
from RescaleSlope/RescaleIntercept), so the pixels stay at their native depth and ``rescaled`` gives the
values a CT window is set in (Hounsfield-like units, or the scanner's own).

(``training/nets/model_code.py`` keeps its own copy of the formula, floored at 0: it is the code a logged
model carries and must run without xwb; ``tests/datasets/test_calibration.py`` keeps the two equal.)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

OPEN_BEAM = 65535  # a 16-bit detector's open beam: the counts where nothing is in the beam


def full_scale(bit_depth: int) -> float:
    """The open-beam level when a file says nothing: the largest value its bit depth holds."""
    return float((1 << bit_depth) - 1) if bit_depth <= 16 else float(OPEN_BEAM)


def scanner_facts(meta: dict | None, channels: int, bit_depth: int = 16) -> tuple[list[float], float]:
    """(I0 per channel, dark level): the file's own (the last I0 repeated for channels it does not name),
    else the full scale of its bit depth and no dark."""
    if meta and "i0" in meta:
        i0 = [float(v) for v in meta["i0"]][:channels]
        return i0 + [i0[-1]] * (channels - len(i0)), float(meta.get("dark", 0.0))
    return [full_scale(bit_depth)] * channels, 0.0


def rescale_of(meta: dict | None) -> tuple[float, float]:
    """(slope, intercept) the file gives its stored values, (1, 0) when it gives none."""
    r = (meta or {}).get("rescale")
    return (float(r[0]), float(r[1])) if r else (1.0, 0.0)


def rescaled(values: np.ndarray, meta: dict | None) -> np.ndarray:
    """Stored values as the file means them (slope * stored + intercept), float32; the stored ones unchanged
    when the file gives no rescale."""
    slope, intercept = rescale_of(meta)
    out = np.asarray(values, np.float32)
    return out * np.float32(slope) + np.float32(intercept) if (slope, intercept) != (1.0, 0.0) else out


def attenuation(counts: np.ndarray, i0: float | Sequence[float] | np.ndarray, dark: float = 0.0) -> np.ndarray:
    """-ln((I - dark) / I0) as float32; counts at or below the dark level count as one photon (no infinity).
    ``i0`` is one level or an array that broadcasts against ``counts`` (per channel)."""
    c = np.clip(np.asarray(counts, np.float32) - np.float32(dark), 1.0, None)
    return -np.log(c / np.asarray(i0, np.float32))
