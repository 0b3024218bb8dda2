"""NumPy ``.npy`` arrays: what a pipeline or another tool saved (a reconstructed CT volume, a preprocessed
scan). Memory-mapped, never loaded whole. A 2-D array is ``yx``; a 3-D one is a guess (a short last axis of
2 to 4 reads as channels, ``yxc``, anything else as slices, ``zyx``) that ``assumed`` reports; 4-D is ``zyxc``.
``xwb add --axes`` settles it."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.readers._decode import one_line
from datasets.scan import Scan, ScanInfo, info_from_array

NAME = "npy"
LABEL = "NumPy .npy"
SUFFIXES = {".npy": "npy"}


def sniff(head: bytes) -> bool:
    return head[:6] == b"\x93NUMPY"


def _axes(path: Path, shape: tuple[int, ...], axes: str | None) -> tuple[str, str]:
    if axes:
        if len(axes) != len(shape):
            raise XwbError(f"{path}: --axes {axes} does not fit an array of shape {shape}")
        return axes, ""
    if len(shape) == 2:
        return "yx", ""
    if len(shape) == 3:
        if 2 <= shape[-1] <= 4 and shape[0] > 4:
            return "yxc", f"shape {shape} read as channels last (yxc); say --axes zyx if it is a volume"
        return "zyx", f"shape {shape} read as slices (zyx); say --axes yxc if the last axis holds channels"
    if len(shape) == 4:
        return "zyxc", f"shape {shape} read as a volume with channels last (zyxc)"
    raise XwbError(f"{path}: an array of shape {shape}; xwb reads 2-D scans and 3-D volumes")


def _open(path: Path) -> np.ndarray:
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as e:  # object arrays need pickle: never loaded
        raise XwbError(f"{path}: not a plain numeric .npy array ({one_line(e)})") from None
    if a.dtype.kind not in "uif" or a.dtype.itemsize > 4 and a.dtype.kind != "f":
        raise XwbError(f"{path}: pixel type {a.dtype} is not a scan's (8/16/32-bit integers or floats)")
    return a


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    a = _open(path)
    ours, assumed = _axes(path, a.shape, axes)
    if not mmap:
        a = np.array(a)
    return Scan(a, info_from_array(a, "npy", ours, assumed=assumed), path)


def info(path: Path, axes: str | None = None) -> ScanInfo:
    return read(path, axes=axes).info  # a memory map: the header only is read
