"""Reading scans at their native depth.

``read_scan`` returns pixels exactly as stored: uint16 stays uint16, a
dual-energy pair stays two channels (channel 0 = high energy, 1 = low).
Arrays are (H, W) for one channel and (H, W, C) otherwise. Uncompressed TIFFs
are memory-mapped, so a cargo scan of hundreds of megapixels costs no copy
until its pixels are touched. ``scan_info`` reads headers only.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from datasets.errors import XwbError

SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dcs", ".dicom"}
LAYOUTS = ("gray", "dual", "rgb", "multi")


@dataclass(frozen=True)
class ScanInfo:
    width: int
    height: int
    channels: int
    bit_depth: int  # bits per sample of the stored dtype: 8, 16, 32
    layout: str  # gray | dual (high, low) | rgb | multi
    format: str  # png | jpeg | bmp | tiff | dicom

    @property
    def max_value(self) -> int:
        return (1 << self.bit_depth) - 1


@dataclass
class Scan:
    pixels: np.ndarray
    info: ScanInfo
    path: Path | None = None
    meta: dict = field(default_factory=dict)  # scanner facts when the file carries them (i0, dark, regime)

    @property
    def high(self) -> np.ndarray:
        """High-energy (or only) channel."""
        return self.pixels if self.pixels.ndim == 2 else self.pixels[..., 0]

    @property
    def low(self) -> np.ndarray | None:
        return self.pixels[..., 1] if self.info.layout == "dual" else None


def _layout(channels: int, hint: str | None = None) -> str:
    if channels == 1:
        return "gray"
    if channels == 2:
        return "dual"
    if channels == 3 and hint != "dual":
        return "rgb"
    return "multi"


def _fmt(path: Path) -> str:
    s = path.suffix.lower()
    return {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp", ".tif": "tiff",
            ".tiff": "tiff", ".dcm": "dicom", ".dcs": "dicom", ".dicom": "dicom"}.get(s, "")


def _sniff(path: Path) -> str:
    fmt = _fmt(path)
    if fmt:
        return fmt
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError as e:
        raise XwbError(f"{path}: cannot read ({e.strerror})") from None
    if head[128:132] == b"DICM":
        return "dicom"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:2] == b"BM":
        return "bmp"
    raise XwbError(f"{path}: not a supported scan format (PNG, JPEG, BMP, TIFF, DICOM/DICOS)")


def _info_from_array(a: np.ndarray, fmt: str, hint: str | None = None) -> ScanInfo:
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    return ScanInfo(w, h, c, a.dtype.itemsize * 8, _layout(c, hint), fmt)


# -- TIFF ------------------------------------------------------------------------------
def _read_tiff(path: Path, mmap: bool) -> tuple[np.ndarray, str | None, dict]:
    import tifffile

    with tifffile.TiffFile(path) as tf:
        pages = list(tf.pages)
        if not pages:
            raise XwbError(f"{path}: TIFF has no image")
        p0 = pages[0]
        meta = _xwb_meta(p0.description)
        # Two pages of the same size and dtype: high and low energy of a dual-energy scan.
        two_page = len(pages) == 2 and pages[1].shape == p0.shape and pages[1].dtype == p0.dtype \
            and p0.ndim == 2
        if two_page:
            a = np.stack([pages[0].asarray(), pages[1].asarray()], axis=-1)
            return a, "dual", meta
        a = None
        if mmap and p0.is_memmappable:
            try:
                a = tifffile.memmap(path, page=0, mode="r")
            except Exception:
                a = None
        if a is None:
            a = p0.asarray()
        planar = p0.planarconfig == 2 if hasattr(p0, "planarconfig") else False
    if a.ndim == 3 and (planar or a.shape[0] in (2, 3) and a.shape[2] not in (2, 3, 4)):
        a = np.moveaxis(a, 0, -1)  # (C, H, W) -> (H, W, C) view, no copy
    return a, None, meta


def _tiff_info(path: Path) -> ScanInfo:
    import tifffile

    with tifffile.TiffFile(path) as tf:
        pages = list(tf.pages)
        if not pages:
            raise XwbError(f"{path}: TIFF has no image")
        p0 = pages[0]
        if len(pages) == 2 and pages[1].shape == p0.shape and p0.ndim == 2:
            return ScanInfo(p0.shape[1], p0.shape[0], 2, p0.dtype.itemsize * 8, "dual", "tiff")
        shape = p0.shape
        c = 1
        if len(shape) == 3:
            if p0.planarconfig == 2:
                c, h, w = shape
            else:
                h, w, c = shape
        else:
            h, w = shape
        return ScanInfo(w, h, c, p0.dtype.itemsize * 8, _layout(c), "tiff")


# -- DICOM / DICOS -----------------------------------------------------------------------
def _read_dicom(path: Path, header_only: bool = False):
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=header_only)
    if "Rows" not in ds or "Columns" not in ds:
        raise XwbError(f"{path}: DICOM file has no image (Rows/Columns missing)")
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    bits = int(getattr(ds, "BitsAllocated", 16))
    if header_only:
        c = spp if frames == 1 else frames
        hint = "dual" if frames == 2 else None
        return ScanInfo(int(ds.Columns), int(ds.Rows), c, bits, _layout(c, hint), "dicom")
    a = ds.pixel_array
    hint = None
    if frames > 1:
        a = np.moveaxis(a, 0, -1)  # frames -> channels: DICOS dual-energy frames (high, low)
        hint = "dual" if frames == 2 else None
    return a, hint


# -- 8/16-bit rasters via OpenCV (keeps 16-bit PNG, including colour) ------------------------
def _read_cv(path: Path) -> np.ndarray:
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    a = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if a is None:
        raise XwbError(f"{path}: cannot decode image (corrupt or unsupported)")
    if a.ndim == 3:
        if a.shape[2] == 3:
            a = a[..., ::-1].copy()  # BGR -> RGB
        elif a.shape[2] == 4:
            a = a[..., [2, 1, 0, 3]].copy()
    return a


def _cv_info(path: Path, fmt: str) -> ScanInfo:
    # PNG headers tell size and depth without decoding; others are decoded.
    if fmt == "png":
        with open(path, "rb") as f:
            head = f.read(33)
        if len(head) >= 29 and head[12:16] == b"IHDR":
            w = int.from_bytes(head[16:20], "big")
            h = int.from_bytes(head[20:24], "big")
            depth, ctype = head[24], head[25]
            c = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(ctype, 1)
            bits = 16 if depth == 16 else 8
            layout = "gray" if ctype in (0,) else ("rgb" if ctype in (2, 3) else "multi")
            if ctype == 4:
                layout = "multi"  # grey+alpha is not a dual-energy pair
            return ScanInfo(w, h, c, bits, layout, "png")
    return _info_from_array(_read_cv(path), fmt)


# -- public API ----------------------------------------------------------------------------------
def read_scan(path: str | Path, mmap: bool = True) -> Scan:
    """Read a scan at native depth. Raises XwbError naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise XwbError(f"{path}: no such file")
    fmt = _sniff(path)
    try:
        meta: dict = {}
        if fmt == "tiff":
            a, hint, meta = _read_tiff(path, mmap)
        elif fmt == "dicom":
            a, hint = _read_dicom(path)
        else:
            a, hint = _read_cv(path), None
    except XwbError:
        raise
    except MemoryError:
        raise XwbError(f"{path}: not enough memory to decode") from None
    except Exception as e:  # decoder-specific errors become one line naming the file
        raise XwbError(f"{path}: cannot read {fmt.upper()} ({_msg(e)})") from None
    if a.dtype.kind == "f":
        pass  # float scans (rare: preprocessed data) are kept as they are
    elif a.dtype.kind not in "ui":
        raise XwbError(f"{path}: unsupported pixel type {a.dtype}")
    return Scan(a, _info_from_array(a, fmt, hint), path, meta)


def _xwb_meta(desc: str | None) -> dict:
    """The ``xwb`` JSON that xwb writes into a TIFF's ImageDescription (I0, dark, regime)."""
    try:
        d = json.loads(desc) if desc and desc.lstrip().startswith("{") else {}
    except ValueError:
        return {}
    meta = d.get("xwb", {}) if isinstance(d, dict) else {}
    return meta if isinstance(meta, dict) else {}


def scan_info(path: str | Path) -> ScanInfo:
    """Size, depth and layout of a scan, reading headers where the format allows."""
    path = Path(path)
    if not path.is_file():
        raise XwbError(f"{path}: no such file")
    fmt = _sniff(path)
    try:
        if fmt == "tiff":
            return _tiff_info(path)
        if fmt == "dicom":
            return _read_dicom(path, header_only=True)
        return _cv_info(path, fmt)
    except XwbError:
        raise
    except Exception as e:
        raise XwbError(f"{path}: cannot read {fmt.upper()} header ({_msg(e)})") from None


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def is_scan_file(path: Path) -> bool:
    return path.suffix.lower() in SCAN_SUFFIXES


def write_tiff(path: str | Path, pixels: np.ndarray, compress: bool = False, meta: dict | None = None) -> None:
    """Write a scan as TIFF at native depth; (H, W, 2) is written as two planes (high, low)."""
    import tifffile

    a = np.asarray(pixels)
    kwargs: dict = {"compression": "zlib"} if compress else {}
    if meta:
        kwargs.update(description=json.dumps({"xwb": meta}, sort_keys=True), metadata=None)
    if a.ndim == 3:
        tifffile.imwrite(path, np.ascontiguousarray(np.moveaxis(a, -1, 0)),
                         photometric="minisblack", planarconfig="separate", **kwargs)
    else:
        tifffile.imwrite(path, a, photometric="minisblack", **kwargs)


def _msg(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return s[0][:200] if s else type(e).__name__
