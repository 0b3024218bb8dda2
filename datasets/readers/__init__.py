"""Scan readers, found by name: one module per kind of file in this folder.

A reader module has ``NAME``, ``LABEL`` (for messages), ``SUFFIXES`` (suffix -> the format name it records),
``sniff(head) -> bool`` (the first 132 bytes of a file without a known suffix) and
``read(path, mmap, axes) -> Scan`` / ``info(path, axes) -> ScanInfo`` (``axes``: what the user said, or None).
A reader of folders (a DICOM series: one file per slice) says ``FOLDERS = True`` and has
``sniff_folder(path) -> bool``. ``datasets.scanio`` dispatches through ``for_path``; nothing else lists formats
(a test keeps it so).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from datasets.errors import XwbError


@functools.cache
def readers() -> dict[str, ModuleType]:
    found = {}
    for m in pkgutil.iter_modules(__path__):
        if m.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{m.name}")
        found[mod.NAME] = mod
    return found


@functools.cache
def _two_part() -> frozenset[str]:
    return frozenset(s for s in suffixes() if s.count(".") > 1)


def suffixes() -> dict[str, str]:
    """Every suffix a reader takes, with the format name it records (``.tif`` -> ``tiff``)."""
    return {s: fmt for r in readers().values() for s, fmt in r.SUFFIXES.items()}


def folder_readers() -> list[ModuleType]:
    return [r for r in readers().values() if getattr(r, "FOLDERS", False)]


def is_scan_folder(path: Path) -> bool:
    """A folder that is one scan (a DICOM series), added whole rather than file by file."""
    return path.is_dir() and any(r.sniff_folder(path) for r in folder_readers())


def suffix_of(path: Path) -> str:
    """The suffix a reader is picked by: the last one, or the last two where a reader takes both (``.nii.gz``)."""
    parts = Path(path.name.lower()).suffixes
    two = "".join(parts[-2:])
    return two if len(parts) > 1 and two in _two_part() else (parts[-1] if parts else "")


def labels() -> str:
    """The kinds of file xwb reads (for a message about a file: folder readers are left out)."""
    return ", ".join(r.LABEL for r in readers().values() if not getattr(r, "FOLDERS", False))


def for_path(path: Path) -> ModuleType:
    """The reader of a file: by its suffix, else by its first bytes; a one-line refusal names what xwb reads.
    A folder is read by a folder reader that recognises it."""
    if path.is_dir():
        for r in folder_readers():
            if r.sniff_folder(path):
                return r
        raise XwbError(f"{path}: a folder that is no scan xwb reads ({', '.join(r.LABEL for r in folder_readers())})")
    suffix = suffix_of(path)
    for r in readers().values():
        if suffix in r.SUFFIXES:
            return r
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError as e:
        raise XwbError(f"{path}: cannot read ({e.strerror})") from None
    for r in readers().values():
        if r.sniff(head):
            return r
    raise XwbError(f"{path}: not a supported scan format ({labels()})")
