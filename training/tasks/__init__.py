"""Task types by name: ``task: seg`` in a recipe, ``spec["task"]`` in a logged model.

Each module here defines one ``Task`` (see ``base.py``) as ``TASK``; listing it in ``_MODULES`` is all the
registration there is. Everything that differs by task is asked of ``tasks.get(name)``.
"""
from __future__ import annotations

import difflib
import importlib

from datasets.errors import XwbError
from training.tasks.base import Task

_MODULES = ("seg", "cls", "interactive", "cls3d", "seg3d")
_TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task (a module of this package, or a lab's own, imported before the recipe is read)."""
    if not task.name:
        raise ValueError("a task needs a name")
    _TASKS[task.name] = task
    return task


for _m in _MODULES:
    register(importlib.import_module(f"training.tasks.{_m}").TASK)


def names() -> list[str]:
    return list(_TASKS)


def get(name: str, where: str = "task") -> Task:
    """The task called ``name``; XwbError naming ``where`` and the tasks there are."""
    t = _TASKS.get(name)
    if t is None:
        near = difflib.get_close_matches(str(name), names(), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise XwbError(f"{where}: unknown task {name!r}{hint} (tasks: {', '.join(names())})")
    return t


__all__ = ["Task", "get", "names", "register"]
