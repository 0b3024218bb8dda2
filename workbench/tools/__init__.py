"""Canvas tools by name. Each module registers its tools (``@register``); the order here is the toolbar's.

The main window, the Tools menu, the shortcut table and the read-only rules are all built from
``registered()``: adding a tool is adding its module to this list.
"""
from __future__ import annotations

import importlib

from workbench.tools.base import Tool, register, registered

_MODULES = ("select", "polygon", "rectangle", "brush", "superpixel", "wand", "livewire", "click")

for _m in _MODULES:
    importlib.import_module(f"workbench.tools.{_m}")

__all__ = ["Tool", "register", "registered"]
