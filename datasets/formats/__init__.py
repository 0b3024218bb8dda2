"""Annotation interchange formats, registered by name: a new format is one new module and one line here.

Each importer is ``import_<fmt>(project, path, add_classes=False) -> ImportSummary`` (all or nothing, see
``common.ImportPlan``); each exporter ``export_<fmt>(project, out, with_proposals=False, with_rejected=False,
overwrite=False) -> dict`` (written whole or not at all).
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

IMPORTERS = {"coco": "coco", "labelme": "labelme", "cvat": "cvat", "yolo": "yolo"}
EXPORTERS = {"coco": "coco", "labelme": "labelme", "cvat": "cvat", "yolo": "yolo", "masks": "masks"}


def importer(name: str) -> Callable:
    return getattr(import_module(f"datasets.formats.{IMPORTERS[name]}"), f"import_{name}")


def exporter(name: str) -> Callable:
    return getattr(import_module(f"datasets.formats.{EXPORTERS[name]}"), f"export_{name}")
