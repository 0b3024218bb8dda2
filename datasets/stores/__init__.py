"""Project store backends, found by name.

A backend is one module in this folder with ``NAME`` and
``open(folder, settings, *, readonly, timeout, create) -> Store``; project.yaml's
``store:`` key picks it (default ``sqlite``, so every older project opens as before).
Only modules here may speak SQL or import a database driver (``tests/test_layers.py``).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

from datasets.errors import XwbError
from datasets.stores.base import SPLITS, STATUSES, EditorSeat, ImageRecord, Store

__all__ = ["SPLITS", "STATUSES", "DEFAULT", "EditorSeat", "ImageRecord", "Store", "backend", "names", "open_store"]

DEFAULT = "sqlite"


@functools.cache
def _modules() -> dict[str, ModuleType]:
    """The backend modules, found once per process (every project open asks)."""
    found = {}
    for m in pkgutil.iter_modules(__path__):
        if m.name.startswith("_") or m.name == "base":
            continue
        mod = importlib.import_module(f"{__name__}.{m.name}")
        if hasattr(mod, "NAME") and callable(getattr(mod, "open", None)):
            found[mod.NAME] = mod
    return found


def names() -> list[str]:
    """The backends this xwb has, for project.yaml's ``store:`` key."""
    return sorted(_modules())


def backend(name: str) -> ModuleType:
    mods = _modules()
    if name not in mods:
        raise XwbError(f"store: unknown backend {name!r} (this xwb has: {', '.join(sorted(mods))})")
    return mods[name]


def open_store(folder: Path, settings: dict[str, Any] | None = None, *, readonly: bool = False,
               timeout: float = 10.0, create: bool = False) -> Store:
    """Open (or create) a project's store as project.yaml's ``store:`` settings say."""
    settings = dict(settings or {})
    name = settings.pop("backend", DEFAULT)
    return backend(name).open(Path(folder), settings, readonly=readonly, timeout=timeout, create=create)
