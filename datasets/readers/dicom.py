"""DICOM and DICOS scans: one grey or colour image, a dual-energy pair of grey frames (high, low), or a
multi-frame volume (CT, DICOS CT: frames are slices along z, with the pixel and slice spacing the file gives).

Files without the 128-byte preamble and 'DICM' marker (older writers) are read as a bare data set, as dcmtk
does. Multi-frame objects the file does not call a volume (no CT SOP class) are read as slices, and
``assumed`` says so.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.scan import Scan, ScanInfo

NAME = "dicom"
LABEL = "DICOM/DICOS"
SUFFIXES = {".dcm": "dicom", ".dcs": "dicom", ".dicom": "dicom"}
DICOS_PREFIX = "1.2.840.10008.5.1.4.1.1.501."  # DICOS SOP classes (NEMA IIC 1): security screening images
DICOS_CT = ("1.2.840.10008.5.1.4.1.1.501.1",)  # DICOS CT Image Storage (NEMA IIC 1 v04 table A-1)
CT_CLASSES = ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", *DICOS_CT)  # CT, enhanced CT
_ENERGY_WORDS = {"HIGH", "LOW", "HIGH_ENERGY", "LOW_ENERGY", "DUAL", "DUAL_ENERGY", "DE", "MULTI_ENERGY"}


def sniff(head: bytes) -> bool:
    return head[128:132] == b"DICM"


def _dcmread(path: Path, header_only: bool):
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


def _sop(ds) -> str:
    return str(getattr(ds, "SOPClassUID", "") or getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", ""))


def _says_dual(ds) -> bool:
    """A two-frame grey object is a dual-energy pair only when the file says so: a DICOS image, or an
    Image Type that names the energies."""
    words = {str(v).upper() for v in (getattr(ds, "ImageType", None) or [])}
    return _sop(ds).startswith(DICOS_PREFIX) and _sop(ds) not in DICOS_CT or bool(words & _ENERGY_WORDS)


def _spacing(ds) -> tuple[float, ...] | None:
    try:
        px = getattr(ds, "PixelSpacing", None)
        dz = getattr(ds, "SpacingBetweenSlices", None) or getattr(ds, "SliceThickness", None)
        if px is None:
            return None
        yx = (float(px[0]), float(px[1]))
        return ((float(dz),) + yx) if dz else yx
    except (TypeError, ValueError, IndexError):
        return None


def _plan(ds, path: Path, axes: str | None) -> tuple[int, int, str, bool, str, str]:
    """(channels, bits, layout, palette, our axes, assumed) of a DICOM image, or a one-line refusal."""
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
                       f"xwb reads grey frames: one image, a dual-energy pair or the slices of a volume")
    if axes and frames == 1 and axes != ("yx" if spp == 1 else "yxc"):
        raise XwbError(f"{path}: --axes {axes} does not fit one {'grey' if spp == 1 else 'colour'} DICOM image")
    if frames > 1:
        ct = _sop(ds) in CT_CLASSES
        if axes in ("zyx", "yxc"):
            as_slices = axes == "zyx"
        elif axes:
            raise XwbError(f"{path}: --axes {axes} does not fit {frames} grey DICOM frames (zyx or yxc)")
        elif frames == 2 and not ct:
            if not _says_dual(ds):
                raise XwbError(f"{path}: 2 grey frames without a dual-energy marker (a DICOS image, or Image Type "
                               f"HIGH/LOW); xwb will not guess that they are high and low energy: say --axes "
                               f"yxc (high, low) or zyx (two slices)")
            as_slices = False
        else:
            as_slices = True
        if as_slices:
            assumed = "" if ct or axes else (f"{frames} frames read as slices (zyx): the file does not say it is "
                                              "a CT volume; say --axes yxc if they are channels")
            return 1, bits, "gray", False, "zyx", assumed
        return frames, bits, "dual" if frames == 2 else "multi", False, "yxc", ""
    if photometric == "PALETTE COLOR":
        desc = getattr(ds, "RedPaletteColorLookupTableDescriptor", None) or [0, 0, 16]
        return 3, 8 if int(desc[2]) <= 8 else 16, "rgb", True, "yxc", ""
    return spp, bits, "gray" if spp == 1 else "rgb", False, "yx" if spp == 1 else "yxc", ""


def _load(path: Path, header_only: bool, axes: str | None):
    with warnings.catch_warnings():  # pydicom's notes on odd values are for developers, not annotators
        warnings.simplefilter("ignore")
        ds = _dcmread(path, header_only)
        c, bits, layout, palette, ours, assumed = _plan(ds, path, axes)
        depth = int(getattr(ds, "NumberOfFrames", 1) or 1) if ours == "zyx" else 1
        info = ScanInfo(int(ds.Columns), int(ds.Rows), c, bits, layout, "dicom", ours, depth,
                        spacing=_spacing(ds) if ours == "zyx" or "PixelSpacing" in ds else None,
                        signed=int(getattr(ds, "PixelRepresentation", 0) or 0) == 1, assumed=assumed)
        if header_only:
            return info, None, {}
        meta = _calibration(ds)
        a = ds.pixel_array
    if palette:
        from pydicom.pixels import apply_color_lut

        a = apply_color_lut(a, ds)
    if ours == "yxc" and c == int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        a = np.moveaxis(a, 0, -1)  # frames -> channels: DICOS dual-energy frames (high, low)
    return info, a, meta


def _calibration(ds) -> dict:
    """What the file says its stored values mean (``datasets.calibration``): the rescale to CT values."""
    slope, intercept = getattr(ds, "RescaleSlope", None), getattr(ds, "RescaleIntercept", None)
    if slope is None and intercept is None:
        return {}
    return {"rescale": (float(slope if slope is not None else 1.0), float(intercept or 0.0))}


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    info, a, meta = _load(path, False, axes)
    assert a is not None
    bits = a.dtype.itemsize * 8  # what the decoder gave (palette colour may widen it)
    if bits != info.bit_depth or (a.dtype.kind == "i") != info.signed:
        from dataclasses import replace

        info = replace(info, bit_depth=bits, signed=a.dtype.kind == "i")
    return Scan(a, info, path, meta)


def info(path: Path, axes: str | None = None) -> ScanInfo:
    return _load(path, True, axes)[0]
