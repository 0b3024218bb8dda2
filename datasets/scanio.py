"""Reading scans at their native depth.

``read_scan`` returns pixels exactly as stored: uint16 stays uint16, a
dual-energy pair stays two channels (channel 0 = high energy, 1 = low).
Arrays are (H, W) for one channel and (H, W, C) otherwise. Uncompressed TIFFs
are memory-mapped, so a cargo scan of hundreds of megapixels costs no copy
until its pixels are touched. ``scan_info`` reads headers only.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import warnings
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
        if len(pages) == 2 and pages[1].shape == p0.shape and pages[1].dtype == p0.dtype and p0.ndim == 2:
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
DICOS_PREFIX = "1.2.840.10008.5.1.4.1.1.501."  # DICOS SOP classes (NEMA IIC 1): security screening images
_ENERGY_WORDS = {"HIGH", "LOW", "HIGH_ENERGY", "LOW_ENERGY", "DUAL", "DUAL_ENERGY", "DE", "MULTI_ENERGY"}


def _dcmread(path: Path, header_only: bool):
    """pydicom's reader; files without the 128-byte preamble and 'DICM' marker (older writers) are read
    as a bare data set, as dcmtk does, and refused only if that is not an image either."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=header_only)
    except InvalidDicomError:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=header_only, force=True)
        except Exception:
            ds = None
        if ds is None or "Rows" not in ds or "Columns" not in ds or (not header_only and "PixelData" not in ds):
            raise XwbError(f"{path}: not a DICOM image (no 'DICM' marker, and no image when read without one)") \
                from None
        return ds


def _says_dual(ds) -> bool:
    """A two-frame grey object is a dual-energy pair only when the file says so: a DICOS image, or an
    Image Type that names the energies."""
    sop = str(getattr(ds, "SOPClassUID", "") or getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", ""))
    words = {str(v).upper() for v in (getattr(ds, "ImageType", None) or [])}
    return sop.startswith(DICOS_PREFIX) or bool(words & _ENERGY_WORDS)


def _dicom_shape(ds, path: Path) -> tuple[int, int, str, bool]:
    """(channels, bits per sample as read, layout, palette) of a DICOM image, or a one-line refusal."""
    if "Rows" not in ds or "Columns" not in ds:
        raise XwbError(f"{path}: DICOM file has no image (Rows/Columns missing)")
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    alloc = int(getattr(ds, "BitsAllocated", 16) or 16)
    bits = 8 if alloc <= 8 else 16 if alloc <= 16 else 32
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).upper()
    if spp not in (1, 3):
        raise XwbError(f"{path}: {spp} samples per pixel; xwb reads grey or colour (3-sample) DICOM images")
    if frames > 1 and spp != 1:
        raise XwbError(f"{path}: {frames} frames of colour pixels (a multi-frame colour object, not a scan); "
                       f"xwb reads one image or a dual-energy pair of grey frames")
    if frames > 2:
        raise XwbError(f"{path}: a series or volume of {frames} frames; xwb reads one image or a dual-energy "
                       f"pair (CT volumes are not supported yet)")
    if frames == 2:
        if not _says_dual(ds):
            raise XwbError(f"{path}: 2 grey frames without a dual-energy marker (a DICOS image, or Image Type "
                           f"HIGH/LOW); xwb will not guess that they are high and low energy")
        return 2, bits, "dual", False
    if photometric == "PALETTE COLOR":
        desc = getattr(ds, "RedPaletteColorLookupTableDescriptor", None) or [0, 0, 16]
        return 3, 8 if int(desc[2]) <= 8 else 16, "rgb", True
    return spp, bits, "gray" if spp == 1 else "rgb", False


def _read_dicom(path: Path, header_only: bool = False):
    with warnings.catch_warnings():  # pydicom's notes on odd values are for developers, not annotators
        warnings.simplefilter("ignore")
        ds = _dcmread(path, header_only)
        c, bits, layout, palette = _dicom_shape(ds, path)
        if header_only:
            return ScanInfo(int(ds.Columns), int(ds.Rows), c, bits, layout, "dicom")
        a = ds.pixel_array
    if palette:
        from pydicom.pixels import apply_color_lut

        a = apply_color_lut(a, ds)
    if layout == "dual":
        a = np.moveaxis(a, 0, -1)  # frames -> channels: DICOS dual-energy frames (high, low)
    return a, layout if layout == "dual" else None


# -- 8/16-bit rasters via OpenCV (keeps 16-bit PNG, including colour) ------------------------
_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _stderr_captured():
    """Catch what C decoders print on fd 2 (libpng: 'libpng error: ...'): it is the reason a decode failed,
    which belongs in the one-line error, not as noise on the user's terminal. Yields a list that receives
    the text; anything else written meanwhile (another thread's log line) is passed on to stderr."""
    out: list[str] = []
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield out
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace")
        ours = [ln for ln in text.splitlines() if _DECODER_NOISE.match(ln)]
        other = [ln for ln in text.splitlines() if ln.strip() and not _DECODER_NOISE.match(ln)]
        out.extend(ln.split(":", 1)[1].strip() if ln.lower().startswith("libpng") else ln.strip() for ln in ours)
        if other:
            print("\n".join(other), file=sys.stderr)


_DECODER_NOISE = re.compile(r"^(libpng (error|warning)|Corrupt JPEG data|Premature end of JPEG|Invalid SOS|"
                            r"Bogus|\[ WARN:|\[ERROR:)", re.I)


def _png_color_type(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(33)
    return head[25] if len(head) >= 29 and head[12:16] == b"IHDR" else None


def _read_cv(path: Path) -> np.ndarray:
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    with _stderr_captured() as said:
        a = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if a is None:
        why = "; ".join(dict.fromkeys(said)) or "corrupt or unsupported"
        raise XwbError(f"{path}: cannot decode {_fmt(path).upper() or 'image'} ({why})")
    if a.ndim == 3:
        if a.shape[2] == 4 and _fmt(path) == "png" and _png_color_type(path) == 4:
            a = a[..., 0].copy()  # grey + alpha: the grey; alpha carries no scan data
        elif a.shape[2] >= 3:
            a = a[..., 2::-1].copy()  # BGR(A) -> RGB; alpha carries no scan data
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
            gray = ctype in (0, 4)  # grey, grey + alpha (alpha is dropped on reading)
            bits = 16 if depth == 16 and ctype != 3 else 8  # palette entries are 8-bit colours
            return ScanInfo(w, h, 1 if gray else 3, bits, "gray" if gray else "rgb", "png")
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


def verify_scan(path: str | Path) -> ScanInfo:
    """Decode the pixels (a truncated or corrupt file fails here, not later in training or prediction) and
    return what ``read_scan`` gives. Uncompressed TIFFs are memory-mapped, not read: mapping fails when the
    file is shorter than its header says, which is how such a file is broken."""
    s = read_scan(path)
    if isinstance(s.pixels, np.memmap):
        size = Path(path).stat().st_size
        end = s.pixels.offset + s.pixels.nbytes
        if end > size:
            raise XwbError(f"{path}: truncated ({size} bytes; the header says the pixels end at byte {end})")
    return s.info


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
    """A decoder's whole reason on one line (pydicom lists every plugin's reason on lines of their own);
    hints that address programmers ("Use force=True") are dropped."""
    text = re.sub(r"\s*Use force=True to force reading\.?", "", str(e))
    parts = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    s = " ".join(p if p.endswith((":", ".", ";")) or i == len(parts) - 1 else p + ";" for i, p in enumerate(parts))
    return (s[:400] + "...") if len(s) > 400 else s or type(e).__name__
