"""A scan and what its file says about it: pixels with named axes, at native depth.

Axes name the array's dimensions in order, channels last (the order the pixels have in memory for every
reader and for OpenCV, numpy and albumentations downstream, so no reader copies to reorder):
- ``yx``: one energy (or a grey photo);
- ``yxc``: channels: a dual-energy pair (c = high, low), a colour photo, other multi-channel data;
- ``zyx``: a CT volume, slices along z;
- ``zyxc``: a dual-energy CT volume.
Code asks ``info.axes`` (or ``is_volume``), never ``ndim`` or ``shape[-1]``. A reader that had to guess says
so in ``assumed``; the user settles it with ``xwb add --axes``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from datasets.errors import XwbError

AXES = ("yx", "yxc", "zyx", "zyxc")
LAYOUTS = ("gray", "dual", "rgb", "multi")


def check_axes(axes: str, where: str = "--axes") -> str:
    a = axes.strip().lower()
    if a not in AXES:
        raise XwbError(f"{where}: axes {axes!r} not known; use one of {', '.join(AXES)} (channels last)")
    return a


def layout_of(channels: int, hint: str | None = None) -> str:
    if channels == 1:
        return "gray"
    if channels == 2:
        return "dual"
    if channels == 3 and hint != "dual":
        return "rgb"
    return "multi"


@dataclass(frozen=True)
class ScanInfo:
    width: int
    height: int
    channels: int
    bit_depth: int  # bits per sample of the stored dtype: 8, 16, 32
    layout: str  # gray | dual (high, low) | rgb | multi
    format: str  # the reader's format name: png | jpeg | bmp | tiff | dicom | npy
    axes: str = ""  # yx | yxc | zyx | zyxc; empty: from channels (yx or yxc)
    depth: int = 1  # slices along z (1 for a 2-D scan)
    spacing: tuple[float, ...] | None = None  # mm per pixel along the spatial axes (z, y, x / y, x), when known
    signed: bool = False
    assumed: str = ""  # why the axes are a guess (then ``xwb add`` says so), or empty

    def __post_init__(self) -> None:
        if not self.axes:
            object.__setattr__(self, "axes", "yx" if self.channels == 1 else "yxc")

    @property
    def is_volume(self) -> bool:
        return self.axes.startswith("z")

    @property
    def max_value(self) -> int:
        return (1 << self.bit_depth) - 1

    def describe(self) -> str:
        """``16-bit dual yxc 640x480`` / ``16-bit gray zyx 40x64x48``: for messages."""
        size = f"{self.depth}x{self.width}x{self.height}" if self.is_volume else f"{self.width}x{self.height}"
        return f"{self.bit_depth}-bit {self.layout} {self.axes} {size}"


def info_from_array(a: np.ndarray, fmt: str, axes: str, hint: str | None = None, **kw) -> ScanInfo:
    """What an array of ``axes`` holds (the axes come from the reader, never from ``a.ndim``)."""
    if len(axes) != a.ndim:
        raise XwbError(f"axes {axes} do not fit an array of {a.ndim} dimensions {a.shape}")
    dims = dict(zip(axes, a.shape))
    c = dims.get("c", 1)
    return ScanInfo(dims["x"], dims["y"], c, a.dtype.itemsize * 8, layout_of(c, hint), fmt, axes,
                    dims.get("z", 1), signed=a.dtype.kind == "i", **kw)


@dataclass
class Scan:
    pixels: np.ndarray
    info: ScanInfo
    path: Path | None = None
    meta: dict = field(default_factory=dict)  # scanner facts when the file carries them (i0, dark, regime)

    @property
    def axes(self) -> str:
        return self.info.axes

    def plane(self) -> np.ndarray:
        """The pixels of a 2-D scan, (H, W) or (H, W, C); a volume is refused in one line naming the file (what
        takes 2-D scans asks this rather than guessing from ``ndim``)."""
        if self.info.is_volume:
            raise XwbError(f"{self.path or 'scan'}: a volume ({self.info.describe()}); this takes 2-D scans")
        return self.pixels

    def channels_last(self) -> np.ndarray:
        """A 2-D scan's pixels as (H, W, C), C = 1 for one energy (a view, no copy)."""
        px = self.plane()
        return px if self.axes.endswith("c") else px[..., None]

    def voxels(self) -> np.ndarray:
        """A volume's values as (Z, Y, X, C), C = 1 for one energy (a view of the mapped file, no copy); a 2-D
        scan is refused in one line naming the file."""
        if not self.info.is_volume:
            raise XwbError(f"{self.path or 'scan'}: a 2-D scan ({self.info.describe()}); this takes CT volumes")
        return self.pixels if self.axes.endswith("c") else self.pixels[..., None]

    @property
    def high(self) -> np.ndarray:
        """High-energy (or only) channel."""
        return self.pixels[..., 0] if self.axes.endswith("c") else self.pixels

    @property
    def low(self) -> np.ndarray | None:
        return self.pixels[..., 1] if self.info.layout == "dual" else None
