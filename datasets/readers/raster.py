"""PNG, JPEG and BMP through OpenCV: 8/16-bit, grey or colour (16-bit colour PNG included). Never volumes."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.readers._decode import stderr_captured
from datasets.scan import Scan, ScanInfo, info_from_array

NAME = "raster"
LABEL = "PNG, JPEG, BMP"
SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp"}
MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"BM", "bmp"))


def _format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt:
        return fmt
    with open(path, "rb") as f:
        head = f.read(8)
    return next((name for magic, name in MAGIC if head.startswith(magic)), "image")


def sniff(head: bytes) -> bool:
    return any(head.startswith(m) for m, _ in MAGIC)


def _png_header(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(33)
    return head if len(head) >= 29 and head[12:16] == b"IHDR" else b""


def _decode(path: Path) -> tuple[np.ndarray, str]:
    import cv2

    fmt = _format(path)
    data = np.fromfile(path, dtype=np.uint8)
    with stderr_captured() as said:
        a = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if a is None:
        why = "; ".join(dict.fromkeys(said)) or "corrupt or unsupported"
        raise XwbError(f"{path}: cannot decode {fmt.upper()} ({why})")
    if a.ndim == 3:  # OpenCV's own decode: (H, W, C) with C last, the only 3-D shape it makes
        head = _png_header(path) if fmt == "png" else b""
        if a.shape[2] == 4 and head and head[25] == 4:
            a = a[..., 0].copy()  # grey + alpha: the grey; alpha carries no scan data
        elif a.shape[2] >= 3:
            a = a[..., 2::-1].copy()  # BGR(A) -> RGB; alpha carries no scan data
    return a, fmt


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    if axes and axes.startswith("z"):
        raise XwbError(f"{path}: a {_format(path).upper()} file holds one image, not a volume ({axes})")
    a, fmt = _decode(path)
    return Scan(a, info_from_array(a, fmt, "yx" if a.ndim == 2 else "yxc"), path)


def info(path: Path, axes: str | None = None) -> ScanInfo:
    """PNG headers tell size and depth without decoding; other files are decoded."""
    head = _png_header(path) if _format(path) == "png" else b""
    if head and not axes:
        w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        depth, ctype = head[24], head[25]
        gray = ctype in (0, 4)  # grey, grey + alpha (alpha is dropped on reading)
        bits = 16 if depth == 16 and ctype != 3 else 8  # palette entries are 8-bit colours
        return ScanInfo(w, h, 1 if gray else 3, bits, "gray" if gray else "rgb", "png")
    return read(path, axes=axes).info
