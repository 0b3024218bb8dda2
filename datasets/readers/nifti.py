"""NIfTI-1/2 volumes (``.nii``, ``.nii.gz``): what research CT pipelines, 3D Slicer, ITK-SNAP and MONAI
write. Read with nibabel. NIfTI stores (x, y, z[, c]) with x fastest in the file; xwb's axes are ``zyx``
(``zyxc``), so the array is the file's transposed (a view: an uncompressed file stays memory-mapped). The
voxel size comes from the header (mm), and a scaling (``scl_slope``/``scl_inter``) is kept as the scan's
rescale (``datasets.calibration``) beside the stored integers, never applied to them. A 2-D image
(z = 1) reads as ``yx``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.readers._decode import one_line
from datasets.scan import Scan, ScanInfo, info_from_array

NAME = "nifti"
LABEL = "NIfTI (.nii, .nii.gz)"
SUFFIXES = {".nii": "nifti", ".nii.gz": "nifti"}


def sniff(head: bytes) -> bool:
    """A NIfTI header starts with its own size: 348 (NIfTI-1) or 540 (NIfTI-2), in either byte order; the
    magic (``n+1``, ``n+2``) confirms it."""
    sizes = {(348).to_bytes(4, "little"), (348).to_bytes(4, "big"), (540).to_bytes(4, "little"), (540).to_bytes(4, "big")}
    return head[:4] in sizes and (head[4:7] == b"n+2" or len(head) < 348 or head[344:347] in (b"n+1", b"ni1"))


def _load(path: Path):
    import nibabel as nib

    try:
        if path.name.lower().endswith(tuple(SUFFIXES)):
            img = nib.load(str(path))
        else:  # found by its header (``sniff``): nibabel picks by suffix, so it is told the kind
            with open(path, "rb") as f:
                two = f.read(4) in ((540).to_bytes(4, "little"), (540).to_bytes(4, "big"))
            cls = nib.Nifti2Image if two else nib.Nifti1Image
            holder = nib.FileHolder(filename=str(path))
            img = cls.from_file_map({"image": holder, "header": holder})
    except Exception as e:  # noqa: BLE001 - nibabel raises many kinds for a broken file; one line for the user
        raise XwbError(f"{path}: not a readable NIfTI file ({one_line(e)})") from None
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise XwbError(f"{path}: not a NIfTI image ({type(img).__name__})")
    return img


def _plan(path: Path, shape: tuple[int, ...], axes: str | None) -> tuple[str, tuple[int, ...]]:
    """Our axes and the transpose from the file's (x, y, z[, c]) order."""
    dims = len(shape)
    if dims == 4 and shape[3] == 1 or dims == 3 and shape[2] == 1:
        shape = shape[:-1]
        dims -= 1
    ours = {2: "yx", 3: "zyx", 4: "zyxc"}.get(dims)
    if ours is None:
        raise XwbError(f"{path}: a NIfTI image of shape {shape}; xwb reads 2-D images, volumes and volumes "
                       "with channels (x, y, z, c)")
    if axes and axes != ours:
        raise XwbError(f"{path}: --axes {axes} does not fit NIfTI's (x, y, z) order ({ours} here)")
    return ours, {2: (1, 0), 3: (2, 1, 0), 4: (2, 1, 0, 3)}[dims]


def _meta(img) -> dict:
    slope, inter = img.dataobj.slope, img.dataobj.inter
    ok = np.isfinite(slope) and np.isfinite(inter) and (slope, inter) != (1.0, 0.0) and slope != 0
    return {"rescale": (float(slope), float(inter))} if ok else {}


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    img = _load(path)
    proxy = img.dataobj
    raw = proxy.get_unscaled() if hasattr(proxy, "get_unscaled") else np.asanyarray(proxy)  # stored integers
    if raw.dtype.kind not in "uif" or raw.dtype.itemsize > 4 and raw.dtype.kind != "f":
        raise XwbError(f"{path}: voxel type {raw.dtype} is not a scan's (8/16/32-bit integers or floats)")
    ours, order = _plan(path, raw.shape, axes)
    a = raw.reshape(raw.shape[:len(order)]).transpose(order)
    if not mmap:
        a = np.ascontiguousarray(a)
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    spacing = zooms[::-1] if ours != "yx" else zooms[1::-1]
    info = info_from_array(a, "nifti", ours, spacing=spacing)
    return Scan(a, info, path, _meta(img))


def info(path: Path, axes: str | None = None) -> ScanInfo:
    return read(path, axes=axes).info  # an uncompressed file is memory-mapped; a .gz one is read once
