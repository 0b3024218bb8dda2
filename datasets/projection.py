"""Views of a CT volume a screener knows: slices along each axis, and projections through it (numpy only).

A line scanner's picture is the line integral of attenuation along each ray; summing a CT volume's
attenuation along one axis gives the same "virtual radiograph", so a CT bag can be read as a line-scan
picture. The maximum-intensity projection (MIP) instead keeps the densest voxel on each ray: metal and
dense goods stand out whatever lies in front of them. Nothing here changes data; the volume may be a
memory map, read one slab of slices at a time, so a 400 MB volume is never copied whole.

Axes: a volume is (Z, Y, X[, C]) with z along the belt, y vertical, x across. ``axis`` names what is summed
or sliced: ``z`` gives the axial (Y, X) plane, ``y`` the coronal (Z, X) plane (the top-down view of a
line scanner), ``x`` the sagittal (Z, Y) plane.
"""
from __future__ import annotations

import numpy as np

AXIS = {"z": 0, "y": 1, "x": 2}
PLANES = {"z": "axial", "y": "coronal", "x": "sagittal"}
MU_WATER_CM = 0.19  # 1/cm, water near 70 keV: turns a sum of density relative to water into a line integral


def _axis(axis: str) -> int:
    try:
        return AXIS[axis]
    except KeyError:
        raise ValueError(f"axis {axis!r}: one of z, y, x") from None


def slice_of(volume: np.ndarray, axis: str, index: int) -> np.ndarray:
    """One plane of stored values (a view: no copy for z, a strided read for y and x)."""
    a = _axis(axis)
    n = volume.shape[a]
    if not 0 <= index < n:
        raise IndexError(f"slice {index} of {n} along {axis}")
    return np.take(volume, index, axis=a) if a else volume[index]


def density(values: np.ndarray, rescale: tuple[float, float]) -> np.ndarray:
    """Stored CT values -> attenuation relative to water (0 air, 1 water), float32, never below 0."""
    slope, intercept = rescale
    hu = np.asarray(values, np.float32) * np.float32(slope) + np.float32(intercept)
    return np.maximum(hu / np.float32(1000.0) + np.float32(1.0), 0.0)


def project(volume: np.ndarray, axis: str, rescale: tuple[float, float] = (1.0, 0.0), mode: str = "sum",
            slab: int = 16) -> np.ndarray:
    """The projection of a (Z, Y, X) volume along ``axis``: ``sum`` (density relative to water summed over the
    voxels of each ray) or ``mip`` (the largest stored value on each ray); read ``slab`` slices at a time."""
    if mode not in ("sum", "mip"):
        raise ValueError(f"projection mode {mode!r}: sum or mip")
    a = _axis(axis)
    z = volume.shape[0]
    out: np.ndarray | None = None
    for z0 in range(0, z, slab):
        part = np.asarray(volume[z0:z0 + slab])
        if mode == "mip":
            got = part.max(axis=a)
            if a == 0:
                out = got if out is None else np.maximum(out, got)
            else:
                out = got if out is None else np.concatenate([out, got], axis=0)
        else:
            got = density(part, rescale).sum(axis=a, dtype=np.float32)
            if a == 0:
                out = got if out is None else out + got
            else:
                out = got if out is None else np.concatenate([out, got], axis=0)
    assert out is not None
    return out


def radiograph(volume: np.ndarray, axis: str, rescale: tuple[float, float], voxel_cm: float) -> np.ndarray:
    """Transmission exp(-∫μ) in [0, 1] along ``axis``: what a line scanner would see through the volume."""
    line = project(volume, axis, rescale, "sum") * np.float32(voxel_cm * MU_WATER_CM)
    return np.exp(-line).astype(np.float32)


def radiograph8(volume: np.ndarray, axis: str = "y", rescale: tuple[float, float] = (1.0, 0.0),
                voxel_cm: float = 0.4) -> np.ndarray:
    """The radiograph as an 8-bit grey picture (white: nothing in the beam), for reports and overlays."""
    t = radiograph(volume, axis, rescale, voxel_cm)
    return np.rint(np.clip(t, 0, 1) * 255).astype(np.uint8)
