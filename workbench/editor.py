"""What a canvas tool may use of the window it works in (the main window implements it).

Tools talk to this small interface instead of reaching into the main window,
so a new tool is one new module and its tests can drive it through the real
window without knowing the window's insides.
"""
from __future__ import annotations

from typing import Protocol

from datasets.project import Project
from datasets.regions import Region
from datasets.stores import ImageRecord
from datasets.taxonomy import Taxonomy
from workbench.assist.signal import ScanSignal
from workbench.canvas.overlays import RegionItem
from workbench.session import Session


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

    def message(self, text: str) -> None:
        """A short note in the status bar (why a gesture did nothing, what the tool will edit)."""

    def regions_in_view(self) -> list[Region]: ...

    def scan_signal(self) -> ScanSignal | None:
        """The scan in view as assisted tools read it (attenuation of windows at native depth); None while
        it loads."""
