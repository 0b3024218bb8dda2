"""What a canvas tool may use of the window it works in (``Editor``), and what the window's own parts
use of it (``Window``); the main window implements both.

Tools talk to this small interface instead of reaching into the main window,
so a new tool is one new module and its tests can drive it through the real
window without knowing the window's insides. The window is composed the same
way: its editing (``workbench/editing.py``) and viewing (``workbench/view_controls.py``)
are objects handed the window as a ``Window``, not mixins reading its attributes
by convention.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from datasets.project import Project
from datasets.regions import Region
from datasets.stores import ImageRecord
from datasets.taxonomy import Taxonomy
from workbench.assist.signal import ScanSignal
from workbench.canvas.overlays import RegionItem
from workbench.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QWidget

    from datasets.scan import Scan
    from workbench.history import History
    from workbench.panels.alert import AlertBar
    from workbench.panels.annotation import ImagePanel
    from workbench.panels.display_panel import DisplayPanel
    from workbench.panels.image_list import ImageListPanel
    from workbench.tools.base import Tool
    from workbench.volume.mode import VolumeMode


class Editor(Protocol):
    session: Session
    project: Project            # (its folder and name: where a tool finds the project's models)
    image: ImageRecord | None   # the scan in view
    class_id: int               # the class tools draw
    brush_size: int             # scan pixels
    readonly: bool
    tax: Taxonomy               # class names and colours
    selected: RegionItem | None  # the selected canvas item (select tool: vertices, moves)

    @property
    def canvas(self): ...                      # the CanvasView (scene, zoom, region items)

    @property
    def selected_region(self) -> Region | None: ...

    def class_color(self) -> tuple[int, int, int]: ...

    def push(self, cmd) -> bool:
        """Apply an undoable command to the image in view; False (and the error shown) when it failed."""

    def select_region(self, region_id: int | None) -> None: ...

    def select(self, item: RegionItem | None) -> None: ...

    def delete_selected(self) -> None:
        """Del: delete the selected region, or reject it when it is a proposal."""

    def message(self, text: str, ms: int = 6000) -> None:
        """A short note in the status bar (why a gesture did nothing, what the tool will edit)."""

    def regions_in_view(self) -> list[Region]: ...

    def scan_signal(self) -> ScanSignal | None:
        """The scan in view as assisted tools read it (attenuation of windows at native depth); None while
        it loads."""


class Window(Editor, Protocol):
    """What the window's parts (``Editing``, ``ViewControls``) use of it besides what tools use."""

    history: History            # undo and redo, per image
    scan: Scan | None           # the scan in view, once loaded
    hidden: set[int]            # region ids hidden from view
    closed: bool                # closed: late loads, polls and edits are ignored
    volumes: VolumeMode         # the CT volume workbench, shown instead of the canvas for a volume
    acts: dict[str, QAction]    # the actions by name (workbench/actions.py)
    tools: dict[str, Tool]      # the tools by name
    alert_bar: AlertBar         # "not saved" and other alarms above the canvas
    panel: ImagePanel           # the scan's status, tags, comment and manifest
    images: ImageListPanel      # the image list
    disp: DisplayPanel          # the display controls
    pos_label: QLabel           # the status bar's cursor position ...
    value_label: QLabel         # ... and the counts under it

    def update_tool_label(self) -> None:
        """The status bar's word on the tool in use (after the brush size or the class changed)."""

    def load_regions(self) -> list[Region]:
        """Show the image's regions from the store; returns those not rejected."""

    def show_image_fields(self) -> None: ...

    def next_image(self) -> None: ...

    def widget(self) -> QWidget:
        """The window as the parent of its dialogs."""
