"""What a canvas tool is, and the one registry that makes the toolbar, the Tools menu and the shortcuts.

A tool turns mouse gestures into undo commands (``workbench/commands.py``) through the small ``Editor``
interface (``workbench/editor.py``); the geometry it needs lives in Qt-free modules (``workbench/assist``).
A new tool is one module in this package: a ``Tool`` subclass with a name, a key, a menu text and whether it
edits, decorated with ``@register``, and listed in ``workbench/tools/__init__.py``.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen

_REGISTRY: list[type[Tool]] = []


def register(cls: type[Tool]) -> type[Tool]:
    """Class decorator: the tool appears in the toolbar, the Tools menu and the shortcut table."""
    if any(c.name == cls.name for c in _REGISTRY):
        raise ValueError(f"a tool named {cls.name!r} is registered already")
    if any(c.shortcut and c.shortcut == cls.shortcut for c in _REGISTRY):
        raise ValueError(f"tool {cls.name!r}: key {cls.shortcut!r} belongs to another tool")
    _REGISTRY.append(cls)
    return cls


def registered() -> list[type[Tool]]:
    return list(_REGISTRY)


class Tool:
    name = "tool"
    shortcut = ""           # its key
    text = ""               # the menu text and tooltip
    label = ""              # the toolbar's short label (default: the name)
    editing = True          # False: usable in a read-only window (it changes nothing)
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, editor):
        self.ed = editor

    @property
    def view(self):
        return self.ed.canvas

    def screen_dist(self, a: QPointF, b: QPointF) -> float:
        return math.hypot(a.x() - b.x(), a.y() - b.y()) * self.view.zoom

    def press(self, p, e): ...
    def move(self, p, e): ...
    def release(self, p, e): ...
    def double_click(self, p, e): ...

    def right_click(self, p, e) -> bool:
        """A right click without a drag (a right drag sets the window); True when the tool used it."""
        return False

    def activate(self) -> None:
        """The tool was chosen: start what it needs (a model to load) without blocking the window."""

    def key(self, e) -> bool:
        return False

    def cancel(self) -> None: ...

    def status(self) -> str:
        """What the tool will act on, for the status bar."""
        return f"{self.name} · {class_name(self.ed)}" if self.editing else self.name


class StepTool(Tool):
    """A tool that builds one thing step by step (vertices, anchors, clicks): Enter finishes it, Esc drops
    it, Backspace takes the last step back; the keys are the tool's only while something is being built."""

    def busy(self) -> bool:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def take_back(self) -> None:
        raise NotImplementedError

    def key(self, e) -> bool:
        if not self.busy():
            return False
        k = e.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish()
        elif k == Qt.Key.Key_Escape:
            self.cancel()
        elif k == Qt.Key.Key_Backspace:
            self.take_back()
        else:
            return False
        return True


def pen(color: QColor, width_px: float) -> QPen:
    p = QPen(color, width_px)
    p.setCosmetic(True)
    return p


def class_name(ed) -> str:
    return ed.tax.by_id(ed.class_id).name if ed.class_id in ed.tax.ids else f"#{ed.class_id}"
