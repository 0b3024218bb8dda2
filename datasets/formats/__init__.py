"""Annotation interchange formats, found by name: a new format is one new module in this folder.

A format module has ``NAME`` and one or both of
- ``import_<NAME>(project, path, add_classes=False) -> ImportSummary``: all or nothing (``common.ImportPlan``),
  with ``IMPORT_HELP`` saying what ``path`` is;
- ``run_export(project, out, **options) -> str``: written whole or not at all, taking the options named in
  ``EXPORT_OPTIONS`` (of with_proposals, with_rejected, overwrite, per_class); a format that writes
  volumes says ``VOLUMES = True`` (the others are refused on a project that holds any).
Each returns the one summary line ``xwb`` prints; the CLI's choices, help and dispatch come from here.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType

from datasets.errors import XwbError


@functools.cache
def formats() -> dict[str, ModuleType]:
    found = {}
    for m in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{m.name}")
        if isinstance(getattr(mod, "NAME", None), str):
            found[mod.NAME] = mod
    return found


def importers() -> dict[str, ModuleType]:
    return {n: m for n, m in formats().items() if hasattr(m, f"import_{n}")}


def exporters() -> dict[str, ModuleType]:
    return {n: m for n, m in formats().items() if hasattr(m, "run_export")}


def _known(table: dict[str, ModuleType], name: str, what: str) -> ModuleType:
    if name not in table:
        raise XwbError(f"{what} format {name!r} not known (this xwb {what}s {', '.join(table)})")
    return table[name]


def importer(name: str):
    """``import_<name>(project, path, add_classes)`` of a format, returning its ImportSummary."""
    return getattr(_known(importers(), name, "import"), f"import_{name}")


def exporter(name: str):
    """``export_<name>(project, out, ...)`` of a format, returning its counts."""
    return getattr(_known(exporters(), name, "export"), f"export_{name}")


def run_import(name: str, project, path, add_classes: bool = False) -> str:
    """Import with a format and return the summary line ``xwb import`` prints."""
    return importer(name)(project, path, add_classes=add_classes).line()


def export(name: str, project, out, **options) -> str:
    """Export with the options the format takes; one it does not take, when asked for, is refused by name."""
    mod = _known(exporters(), name, "export")
    unused = sorted(k for k, v in options.items() if v and k not in mod.EXPORT_OPTIONS)
    if unused:
        raise XwbError(f"export {name}: --{unused[0].replace('_', '-')} does not apply to {name} "
                       f"(it takes {', '.join('--' + o.replace('_', '-') for o in mod.EXPORT_OPTIONS)})")
    if not getattr(mod, "VOLUMES", False):
        vols = sum(1 for r in project.store.images(with_sets=False) if r.is_volume)
        if vols:
            takes = [n for n, m in exporters().items() if getattr(m, "VOLUMES", False)]
            raise XwbError(f"export {name}: {project.name} holds {vols} volume{'s' * (vols > 1)} and {name} is "
                           f"2-D only; nothing was written" + (f" (volumes export as {', '.join(takes)})" if takes else ""))
    return mod.run_export(project, out, **{k: v for k, v in options.items() if k in mod.EXPORT_OPTIONS})
