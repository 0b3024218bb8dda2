"""Scan readers, found by name: one module per kind of file in this folder.

A reader module has ``NAME``, ``LABEL`` (for messages), ``SUFFIXES`` (suffix -> the format name it records),
``sniff(head) -> bool`` (the first 132 bytes of a file without a known suffix) and
``read(path, mmap, axes) -> Scan`` / ``info(path, axes) -> ScanInfo`` (``axes``: what the user said, or None).
``datasets.scanio`` dispatches through ``for_path``; nothing else lists formats (a test keeps it so).
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


def suffixes() -> dict[str, str]:
    """Every suffix a reader takes, with the format name it records (``.tif`` -> ``tiff``)."""
    return {s: fmt for r in readers().values() for s, fmt in r.SUFFIXES.items()}


def labels() -> str:
    return ", ".join(r.LABEL for r in readers().values())


def for_path(path: Path) -> ModuleType:
    """The reader of a file: by its suffix, else by its first bytes; a one-line refusal names what xwb reads."""
    suffix = path.suffix.lower()
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
