"""Reading scans at their native depth, through the reader registry (``datasets/readers/``).

``read_scan`` returns pixels exactly as stored: uint16 stays uint16, a dual-energy pair stays two channels
(channel 0 = high energy, 1 = low), and ``scan.info.axes`` names the dimensions (``datasets/scan.py``).
Uncompressed TIFFs and ``.npy`` arrays are memory-mapped, so a cargo scan of hundreds of megapixels costs no
copy until its pixels are touched. ``scan_info`` reads headers only.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from datasets import readers
from datasets.errors import XwbError
from datasets.readers import tiff
from datasets.readers._decode import one_line
from datasets.scan import LAYOUTS, Scan, ScanInfo, check_axes

__all__ = ["LAYOUTS", "SCAN_SUFFIXES", "Scan", "ScanInfo", "file_sha256", "is_scan_file", "read_scan", "scan_info",
           "verify_scan", "write_tiff"]

SCAN_SUFFIXES = set(readers.suffixes())


def _reader(path: Path, axes: str | None):
    if not path.is_file() and not path.is_dir():
        raise XwbError(f"{path}: no such file")
    return readers.for_path(path), (check_axes(axes) if axes else None)


def read_scan(path: str | Path, mmap: bool = True, axes: str | None = None) -> Scan:
    """Read a scan at native depth (``axes``: what the user said the file holds). Raises XwbError naming the
    file on failure."""
    path = Path(path)
    r, axes = _reader(path, axes)
    try:
        s = r.read(path, mmap=mmap, axes=axes)
    except XwbError:
        raise
    except MemoryError:
        raise XwbError(f"{path}: not enough memory to decode") from None
    except Exception as e:  # decoder-specific errors become one line naming the file
        raise XwbError(f"{path}: cannot read {r.LABEL} ({one_line(e)})") from None
    if s.pixels.dtype.kind not in "uif":  # float scans (rare: preprocessed data) are kept as they are
        raise XwbError(f"{path}: unsupported pixel type {s.pixels.dtype}")
    return s


def scan_info(path: str | Path, axes: str | None = None) -> ScanInfo:
    """Size, depth, layout and axes of a scan, reading headers where the format allows."""
    path = Path(path)
    r, axes = _reader(path, axes)
    try:
        return r.info(path, axes=axes)
    except XwbError:
        raise
    except Exception as e:
        raise XwbError(f"{path}: cannot read {r.LABEL} header ({one_line(e)})") from None


def verify_scan(path: str | Path, axes: str | None = None) -> ScanInfo:
    """Decode the pixels (a truncated or corrupt file fails here, not later in training or prediction) and
    return what ``read_scan`` gives. Memory-mapped files are mapped, not read: mapping fails when the file is
    shorter than its header says, which is how such a file is broken."""
    s = read_scan(path, axes=axes)
    if isinstance(s.pixels, np.memmap) or isinstance(getattr(s.pixels, "base", None), np.memmap):
        m = s.pixels if isinstance(s.pixels, np.memmap) else s.pixels.base
        size = Path(m.filename).stat().st_size if getattr(m, "filename", None) else Path(path).stat().st_size
        end = m.offset + m.nbytes
        if end > size:
            raise XwbError(f"{path}: truncated ({size} bytes; the header says the pixels end at byte {end})")
    return s.info


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """Of a file's bytes; of a folder scan (a DICOM series), of its files' names and bytes in name order."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for f in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
            h.update(f.name.encode() + b"\0" + bytes.fromhex(file_sha256(f)))
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def is_scan_file(path: Path) -> bool:
    return readers.suffix_of(path) in SCAN_SUFFIXES


def write_tiff(path: str | Path, pixels: np.ndarray, compress: bool = False, meta: dict | None = None,
               axes: str | None = None) -> None:
    """Write a scan as TIFF at native depth; ``yxc`` (H, W, 2) as two planes (high, low), ``zyx`` as slices."""
    tiff.write(path, pixels, compress=compress, meta=meta, axes=axes)
