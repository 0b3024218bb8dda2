"""Menus, toolbar and keyboard shortcuts from one table (the Help dialog lists the same table)."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTableWidget, QTableWidgetItem, QVBoxLayout

from workbench import tools

# (name, menu, text, shortcuts, method of the main window: its own, or of its parts, as "editing.undo")
ACTIONS = [
    ("open", "File", "Open project…", ["Ctrl+O"], "choose_project"),
    ("refresh", "File", "Refresh from the store", ["F5"], "refresh"),
    ("annotator", "File", "Annotator name…", [], "ask_annotator"),
    ("quit", "File", "Quit", ["Ctrl+Q"], "close"),
    ("undo", "Edit", "Undo", ["Ctrl+Z"], "editing.undo"),
    ("redo", "Edit", "Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], "editing.redo"),
    ("delete", "Edit", "Delete selected region (a proposal: reject it, kept as a false alarm)", ["Del"],
     "editing.delete_selected"),
    ("fill", "Edit", "Fill holes of selected mask", ["Ctrl+F"], "editing.fill_holes"),
    ("accept", "Edit", "Accept selected proposal", ["Ctrl+Return"], "editing.accept_selected"),
    ("fill_between", "Edit", "Fill between drawn slices (CT volumes)", ["Shift+F"], "volumes.fill_between"),
    ("next", "Image", "Next image", ["D", "PgDown"], "next_image"),
    ("prev", "Image", "Previous image", ["A", "PgUp"], "prev_image"),
    ("done", "Image", "Mark done and go to next", ["Ctrl+D"], "editing.mark_done_next"),
    ("smaller", "Tools", "Smaller brush", ["["], "editing.brush_smaller"),
    ("bigger", "Tools", "Bigger brush", ["]"], "editing.brush_bigger"),
    ("fit", "View", "Fit to window", ["F"], "viewing.fit"),
    ("one", "View", "Actual pixels (1:1)", ["O"], "viewing.one_to_one"),
    ("zoom_in", "View", "Zoom in", ["+", "="], "viewing.zoom_in"),
    ("zoom_out", "View", "Zoom out", ["-"], "viewing.zoom_out"),
    ("overlays", "View", "Show/hide regions", ["H"], "viewing.toggle_overlays"),
    ("show_rejected", "View", "Show rejected proposals", ["Shift+H"], "toggle_rejected"),
    ("auto_wl", "View", "Auto window/level", ["W"], "viewing.auto_window"),
    ("invert", "View", "Invert", ["I"], "viewing.toggle_invert"),
    ("material", "View", "Next display mode (high, low, fused, material)", ["M"], "viewing.next_mode"),
    ("models", "View", "Models panel: versions, pre-label, what to label next, train", ["Ctrl+M"], "show_models"),
    ("shortcuts", "Help", "Keyboard shortcuts", ["F1"], "show_shortcuts"),
]
# actions that change the project: disabled in a read-only window (with every tool that edits)
EDITING = ("delete", "fill", "accept", "fill_between", "undo", "redo", "done")


def tool_rows() -> list[tuple[str, str, str, list[str], str]]:
    """The Tools menu, from the tool registry (``workbench/tools``): one row per tool, in toolbar order."""
    return [(t.name, "Tools", t.text, [t.shortcut] if t.shortcut else [], f"tool:{t.name}") for t in tools.registered()]


def all_rows() -> list[tuple[str, str, str, list[str], str]]:
    """Every action: the table above with the tools first in the Tools menu."""
    at = next(i for i, r in enumerate(ACTIONS) if r[1] == "Tools")
    return ACTIONS[:at] + tool_rows() + ACTIONS[at:]


def editing() -> tuple[str, ...]:
    return EDITING + tuple(t.name for t in tools.registered() if t.editing)
EXTRA = [("1 … 9, 0", "class of the taxonomy's hotkey (and of the selected region)"),
         ("Space + drag, middle drag", "pan"), ("wheel", "zoom at the cursor"),
         ("right drag", "window (left/right) and level (up/down)"),
         ("right click (click tool)", "this is not the object"),
         ("Shift / Alt + wand click", "add to / take away from the selected mask"),
         ("Shift+click vertex", "delete a polygon vertex"), ("double-click edge", "insert a polygon vertex"),
         ("Esc / Backspace", "cancel polygon / remove its last point"),
         ("Shift + brush stroke", "start a new mask region instead of extending the touched one"),
         ("Esc in a text field", "back to the canvas (single-key shortcuts)")]


def build(window) -> dict[str, QAction]:
    menus: dict[str, object] = {}
    out = {}
    for name, menu, text, keys, method in all_rows():
        m = menus.get(menu) or window.menuBar().addMenu(menu)
        menus[menu] = m
        a = QAction(text, window)
        a.setShortcuts([QKeySequence(k) for k in keys])
        if method.startswith("tool:"):
            t = window.tools[method[5:]]
            a.setCheckable(True)
            a.setIconText(t.label or t.name)  # the toolbar's short name; the menu and tooltip say more
            a.setToolTip(f"{text} ({keys[0]})" if keys else text)
            a.triggered.connect(lambda _=False, n=method[5:]: window.use_tool(n))
        else:
            target = window
            for part in method.split("."):
                target = getattr(target, part)
            a.triggered.connect(target)
        m.addAction(a)
        out[name] = a
    out["show_rejected"].setCheckable(True)
    return out


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [(", ".join(k), f"{m}: {t}") for _, m, t, k, _ in all_rows() if k] + EXTRA
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["keys", "action"])
        for i, (k, t) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(k))
            table.setItem(i, 1, QTableWidgetItem(t))
        table.resizeColumnsToContents()
        table.verticalHeader().setVisible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        self.resize(560, 640)
        self.table = table
