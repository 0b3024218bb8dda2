"""What the volume views show, free of Qt: windowed slices, projections and region overlays of a CT volume.

O(screen): a slice is one plane of the memory-mapped volume through a 65,536-entry lookup table (the
window in Hounsfield units turned into stored values), so stepping through a 512×512×800 volume reads one
plane and never the volume. The projections are computed once per volume, a slab at a time, and kept as
16-bit pictures, so a new window is again one lookup per pixel.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datasets import projection
from datasets.display import window_lut
from datasets.regions import Region
from datasets.voxel_edit import plane_of

# window presets in HU: (name, low, high)
PRESETS = {"bag": (-1000.0, 3000.0), "organic": (-400.0, 600.0), "dense": (0.0, 4000.0), "metal": (0.0, 12000.0)}
PLANES = ("z", "y", "x")  # axial, coronal, sagittal: the axis each view slices


def plane_axes(axis: str) -> tuple[str, str]:
    """(row axis, column axis) of the slice along ``axis``."""
    return {"z": ("y", "x"), "y": ("z", "x"), "x": ("z", "y")}[axis]


@dataclass
class VolumeDisplay:
    """A volume (Z, Y, X[, C]) of stored values with its rescale, the cursor (z, y, x) and the window."""

    volume: np.ndarray
    rescale: tuple[float, float] = (1.0, 0.0)
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)  # mm along z, y, x
    window: tuple[float, float] = PRESETS["bag"]            # HU
    material: bool = False                                  # dual energy: colour by material
    cursor: list[int] = field(default_factory=list)
    _proj: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.cursor:
            self.cursor = [n // 2 for n in self.shape]
        self._lut_for: tuple | None = None
        self._lut = np.zeros(1, np.uint8)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.volume.shape[:3])  # type: ignore[return-value]

    @property
    def dual(self) -> bool:
        return self.volume.ndim == 4 and self.volume.shape[3] >= 2

    # -- values ---------------------------------------------------------------------
    def hu(self, stored: float) -> float:
        return float(stored) * self.rescale[0] + self.rescale[1]

    def stored(self, hu: float) -> float:
        return (float(hu) - self.rescale[1]) / (self.rescale[0] or 1.0)

    def value_at(self, z: int, y: int, x: int) -> float:
        v = self.volume[z, y, x]
        return float(v[0] if np.ndim(v) else v)

    def _offset(self) -> int:
        return 32768 if self.volume.dtype.kind == "i" else 0

    def lut(self) -> np.ndarray:
        """uint8 lookup of stored values (offset to be non-negative for signed data) for the window."""
        key = (self.window, self.rescale, self.volume.dtype.str)
        if key != self._lut_for:
            off = self._offset()
            lo, hi = sorted((self.stored(self.window[0]) + off, self.stored(self.window[1]) + off))
            self._lut, self._lut_for = window_lut(lo, hi), key
        return self._lut

    def plane(self, axis: str, index: int | None = None, channel: int = 0) -> np.ndarray:
        a = projection.AXIS[axis]
        i = self.cursor[a] if index is None else index
        p = projection.slice_of(self.volume, axis, int(np.clip(i, 0, self.shape[a] - 1)))
        return p[..., channel] if p.ndim == 3 else p

    def _windowed(self, p: np.ndarray) -> np.ndarray:
        idx = p.astype(np.int32) + self._offset() if self._offset() else p
        return np.take(self.lut(), idx)

    def slice_rgb(self, axis: str, index: int | None = None) -> np.ndarray:
        """(rows, cols, 3) uint8 of the slice: grey through the window, or material colour for dual energy
        (organic orange, inorganic green, metal blue: the low/high ratio of attenuation, as on line scanners)."""
        g = self._windowed(self.plane(axis, index))
        if not (self.material and self.dual):
            return np.repeat(g[..., None], 3, axis=2)
        hi = projection.density(self.plane(axis, index, 0), self.rescale)
        lo = projection.density(self.plane(axis, index, 1), self.rescale)
        r = np.where(hi > 0.2, lo / np.maximum(hi, 1e-3), 1.0)
        t_org = np.clip((1.25 - r) / 0.25, 0, 1)[..., None]  # ratio near 1: organic
        t_met = np.clip((r - 1.6) / 0.4, 0, 1)[..., None]    # far above 1: metal
        org, ino, met = (np.array(c, np.float32) for c in ((255, 150, 40), (70, 200, 70), (40, 90, 255)))
        colour = t_org * org + (1 - t_org) * ((1 - t_met) * ino + t_met * met)
        shade = 0.35 + 0.65 * g[..., None].astype(np.float32) / 255.0  # denser brighter, never black
        air = (hi <= 0.2)[..., None]  # air and foam: too little signal for a ratio
        out = np.where(air, np.repeat(g[..., None], 3, axis=2), shade * colour)
        return np.clip(out, 0, 255).astype(np.uint8)

    # -- projections ----------------------------------------------------------------
    def projection16(self, axis: str = "y", mode: str = "sum") -> tuple[np.ndarray, float]:
        """The projection along ``axis`` as uint16 (0..65535 over its range) and the value one step means;
        computed once per (axis, mode)."""
        key = (axis, mode)
        if key not in self._proj:
            vol = self.volume[..., 0] if self.volume.ndim == 4 else self.volume
            p = projection.project(vol, axis, self.rescale, mode)
            top = float(p.max()) or 1.0
            self._proj[key] = (np.rint(p.astype(np.float64) * (65535.0 / top)).astype(np.uint16), top / 65535.0)
        return self._proj[key]

    def projection_rgb(self, axis: str = "y", mode: str = "sum") -> np.ndarray:
        """The projection as a picture: ``sum`` as a radiograph (transmission, white where nothing is in the
        beam; the window's width sets its contrast), ``mip`` through the slice window."""
        p16, step = self.projection16(axis, mode)
        if mode == "mip":  # stored values: through the same window as the slices
            vals = np.arange(65536, dtype=np.float64) * step
            lo, hi = self.stored(self.window[0]), self.stored(self.window[1])
            lut = np.rint(np.clip((vals - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)
        else:  # line integrals of density: exp(-mu * L); a narrower window steepens the curve
            vox_cm = self.spacing[projection.AXIS[axis]] / 10.0
            width = max(self.window[1] - self.window[0], 50.0)
            k = projection.MU_WATER_CM * vox_cm * (4000.0 / width)
            lut = np.rint(np.exp(-np.arange(65536, dtype=np.float64) * step * k) * 255).astype(np.uint8)
        g = np.take(lut, p16)
        return np.repeat(g[..., None], 3, axis=2)

    # -- overlays -------------------------------------------------------------------
    def overlay(self, rgb: np.ndarray, axis: str, regions: list[tuple[Region, tuple[int, int, int], bool]],
                alpha: float = 0.45, index: int | None = None) -> np.ndarray:
        """``rgb`` with each region's cut by the slice blended in its colour (``selected`` ones brighter)."""
        a = projection.AXIS[axis]
        i = self.cursor[a] if index is None else index
        out = rgb.astype(np.float32)
        for r, colour, selected in regions:
            cut = plane_of(r, axis, int(i), self.shape)
            if cut is not None:
                k = min(1.0, alpha * (1.6 if selected else 1.0) * (0.6 if r.state == "proposal" else 1.0))
                _blend(out, *cut, colour, k, outline=r.box is not None)  # a 3-D box: its outline
        return out.astype(np.uint8)

    def footprint(self, rgb: np.ndarray, regions: list[tuple[Region, tuple[int, int, int], bool]],
                  axis: str = "y") -> np.ndarray:
        """Regions seen through the projection along ``axis``: each one's shadow (voxels any along the axis)."""
        a = projection.AXIS[axis]
        out = rgb.astype(np.float32)
        for r, colour, selected in regions:
            x0, y0, z0, x1, y1, z1 = (int(round(v)) for v in r.bbox3d())
            lo, hi = (z0, y0, x0), (z1, y1, x1)
            rest = [i for i in range(3) if i != a]
            if r.voxels is not None:
                m = np.asarray(r.voxels.any(axis=a), bool)
            else:
                m = np.ones((hi[rest[0]] - lo[rest[0]], hi[rest[1]] - lo[rest[1]]), bool)
            _blend(out, m, lo[rest[0]], lo[rest[1]], colour, 0.6 if selected else 0.4)
        return out.astype(np.uint8)


def _blend(out: np.ndarray, m: np.ndarray, r0: int, c0: int, colour: tuple[int, int, int], k: float,
           outline: bool = False) -> None:
    """Blend ``colour`` with weight ``k`` into float ``out`` where the bool ``m`` at (row ``r0``, column ``c0``)
    is set, clipped to ``out``; ``outline``: only the border of the part in view."""
    h, w = out.shape[:2]
    rr0, cc0 = max(r0, 0), max(c0, 0)
    rr1, cc1 = min(r0 + m.shape[0], h), min(c0 + m.shape[1], w)
    if rr1 <= rr0 or cc1 <= cc0:
        return
    sub = m[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0]
    if outline:
        edge = np.zeros_like(sub)
        edge[[0, -1], :] = True
        edge[:, [0, -1]] = True
        sub = sub & edge
    view = out[rr0:rr1, cc0:cc1]
    view[sub] = view[sub] * (1 - k) + np.array(colour, np.float32) * k
