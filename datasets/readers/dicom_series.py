"""A DICOM CT series: a folder with one file per slice (what most CT scanners and PACS exports write).

The folder is one scan (``zyx``). Its slices are the single-frame CT (or DICOS CT) images of one series,
ordered by their position along the slice normal (Image Position Patient · (row × column direction)), not by
file name or Instance Number, which exporters renumber. Two series of the same slices at two tube voltages
(KVP) are one dual-energy volume (``zyxc``, the higher kVp first, as high and low of a line scanner).
Refused by name, before any pixel is read: files of two series that are not such a pair, two slices at one
position (a duplicate), a gap (a slice step more than half again the usual one:
a missing file), slices of different sizes, orientations, bit depths or rescales. The voxel size is the slice
step and the Pixel Spacing; the rescale slope and intercept are kept beside the stored integers.

Slices are decoded one by one into the volume (a DICOM file holds its pixels encoded, so the series is read,
not memory-mapped).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.readers.dicom import CT_CLASSES, _sop
from datasets.readers.dicom import SUFFIXES as DICOM_SUFFIXES
from datasets.readers.dicom import sniff as dicom_sniff
from datasets.scan import Scan, ScanInfo

NAME = "dicom-series"
LABEL = "DICOM CT series (a folder)"
SUFFIXES: dict[str, str] = {}  # a folder, found by ``sniff_folder``
FOLDERS = True
GAP = 1.5  # a step this many times the usual one means a slice is missing


def sniff(head: bytes) -> bool:
    return False  # a folder, never a file: ``sniff_folder``


def _members(folder: Path) -> list[Path]:
    out = []
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.name.startswith("."):
            continue
        if f.suffix.lower() in DICOM_SUFFIXES or f.suffix == "":
            try:
                with open(f, "rb") as fh:
                    head = fh.read(132)
            except OSError:
                continue
            if dicom_sniff(head) or f.suffix.lower() in DICOM_SUFFIXES:
                out.append(f)
    return out


def _header(f: Path):
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(f, stop_before_pixels=True)
        except Exception as e:  # noqa: BLE001 - one line naming the file
            raise XwbError(f"{f}: not a readable DICOM file ({str(e).splitlines()[0][:120]})") from None


def sniff_folder(folder: Path) -> bool:
    """A folder whose DICOM files are two or more single-frame CT slices (and nothing else a scan could be)."""
    files = _members(folder)
    if len(files) < 2:
        return False
    try:
        first = _header(files[0])
    except XwbError:
        return False
    return _sop(first) in CT_CLASSES and int(getattr(first, "NumberOfFrames", 1) or 1) == 1


def _normal(ds) -> np.ndarray:
    o = np.asarray(getattr(ds, "ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), np.float64)
    n = np.cross(o[:3], o[3:])
    return n / (np.linalg.norm(n) or 1.0)


def _plan(folder: Path):
    """(info, slice files per channel, meta): one series, or a dual-energy pair of two series at two kVp."""
    files = _members(folder)
    if len(files) < 2:
        raise XwbError(f"{folder}: a folder with {len(files)} DICOM file(s); a CT series has one file per slice")
    heads = [(f, _header(f)) for f in files]
    by_series: dict[str, list] = {}
    for f, d in heads:
        by_series.setdefault(str(getattr(d, "SeriesInstanceUID", "")), []).append((f, d))
    if len(by_series) == 1:
        info, order, meta = _one_series(folder, heads)
        return info, [order], meta
    if len(by_series) == 2:
        pair = _dual_pair(folder, list(by_series.values()))
        if pair is not None:
            return pair
    raise XwbError(f"{folder}: files of {len(by_series)} series (SeriesInstanceUID); a volume is one series, or "
                   "a dual-energy pair of two series of one geometry at two kVp (put each series in its own folder)")


def _dual_pair(folder: Path, groups: list[list]):
    """Two series of the same slices at two tube voltages: one dual-energy volume (high kVp first), or None
    when they are not such a pair."""
    kvp = [float(getattr(g[0][1], "KVP", 0) or 0) for g in groups]
    if min(kvp) <= 0 or kvp[0] == kvp[1] or any(float(getattr(d, "KVP", 0) or 0) != k
                                                for g, k in zip(groups, kvp) for _, d in g):
        return None
    (ia, fa, ma), (ib, fb, mb) = (_one_series(folder, g) for g in groups)
    if (ia.depth, ia.height, ia.width, ia.bit_depth) != (ib.depth, ib.height, ib.width, ib.bit_depth) or \
            not np.allclose(ia.spacing or (), ib.spacing or (), atol=1e-3):
        raise XwbError(f"{folder}: two series at {kvp[0]:g} and {kvp[1]:g} kVp of different geometry "
                       f"({ia.describe()} and {ib.describe()}); a dual-energy pair has the same slices")
    pos = [[_position(d) for d in ds] for ds in (_heads_of(groups[0], fa), _heads_of(groups[1], fb))]
    if not np.allclose(pos[0], pos[1], atol=1e-3):
        raise XwbError(f"{folder}: the series at {kvp[0]:g} and {kvp[1]:g} kVp are at different slice positions")
    if ma != mb:
        raise XwbError(f"{folder}: the series at {kvp[0]:g} and {kvp[1]:g} kVp have different rescales; xwb keeps "
                       "one per volume")
    high_first = kvp[0] > kvp[1]
    order = [fa, fb] if high_first else [fb, fa]
    info = ScanInfo(ia.width, ia.height, 2, ia.bit_depth, "dual", "dicom", "zyxc", ia.depth, spacing=ia.spacing,
                    signed=ia.signed)
    return info, order, {**ma, "kvp": (max(kvp), min(kvp))}


def _heads_of(group: list, order: list[Path]) -> list:
    d = {f: h for f, h in group}
    return [d[f] for f in order]


def _position(d) -> float:
    return float(np.dot(np.asarray(d.ImagePositionPatient, np.float64), _normal(d)))


def _one_series(folder: Path, heads: list):
    f0, d0 = heads[0]
    for f, d in heads:
        if _sop(d) not in CT_CLASSES or int(getattr(d, "NumberOfFrames", 1) or 1) != 1:
            raise XwbError(f"{f}: not a single-frame CT slice; {folder} holds other objects too")
        for key in ("Rows", "Columns", "BitsAllocated", "PixelRepresentation"):
            if getattr(d, key, None) != getattr(d0, key, None):
                raise XwbError(f"{f}: {key} {getattr(d, key, None)} differs from {f0.name}'s "
                               f"{getattr(d0, key, None)}; the slices of a volume are alike")
        if not np.allclose(_normal(d), _normal(d0), atol=1e-3):
            raise XwbError(f"{f}: its orientation differs from {f0.name}'s; a volume's slices are parallel")
        if "ImagePositionPatient" not in d:
            raise XwbError(f"{f}: no Image Position (Patient): the slice cannot be placed in the volume")
    pos = [(_position(d), f, d) for f, d in heads]
    pos.sort(key=lambda t: t[0])
    steps = np.diff([p for p, _, _ in pos])
    for (pa, fa, _), (_, fb, _), s in zip(pos[:-1], pos[1:], steps):
        if s < 1e-3:
            raise XwbError(f"{folder}: {fa.name} and {fb.name} are slices at one position ({pa:.2f} mm): a duplicate")
    usual = float(np.median(steps))
    for (_, fa, _), (_, fb, _), s in zip(pos[:-1], pos[1:], steps):
        if s > GAP * usual:
            raise XwbError(f"{folder}: a gap of {s:.2f} mm between {fa.name} and {fb.name} (slices are "
                           f"{usual:.2f} mm apart): a slice is missing")
    rescales = {(float(getattr(d, "RescaleSlope", 1) or 1), float(getattr(d, "RescaleIntercept", 0) or 0))
                for _, _, d in pos}
    if len(rescales) > 1:
        raise XwbError(f"{folder}: slices with {len(rescales)} different rescales; xwb keeps one per volume")
    ps = [float(v) for v in getattr(d0, "PixelSpacing", [1.0, 1.0])]
    info = ScanInfo(int(d0.Columns), int(d0.Rows), 1, int(d0.BitsAllocated), "gray", "dicom", "zyx", len(pos),
                    spacing=(usual, ps[0], ps[1]), signed=int(getattr(d0, "PixelRepresentation", 0) or 0) == 1)
    meta = {"rescale": rescales.pop()} if "RescaleSlope" in d0 or "RescaleIntercept" in d0 else {}
    return info, [f for _, f, _ in pos], meta


def info(path: Path, axes: str | None = None) -> ScanInfo:
    _check_axes(path, axes)
    return _plan(path)[0]


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    import pydicom

    _check_axes(path, axes)
    info, channels, meta = _plan(path)
    vol = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c, files in enumerate(channels):
            for z, f in enumerate(files):
                a = pydicom.dcmread(f).pixel_array
                if vol is None:
                    vol = np.empty((len(files), *a.shape, len(channels)), a.dtype)
                vol[z, ..., c] = a
    assert vol is not None
    return Scan(vol if len(channels) > 1 else vol[..., 0], info, path, meta)


def _check_axes(path: Path, axes: str | None) -> None:
    if axes and axes not in ("zyx", "zyxc"):
        raise XwbError(f"{path}: --axes {axes} does not fit a CT series (one slice per file: zyx, or zyxc for a "
                       "dual-energy pair)")
