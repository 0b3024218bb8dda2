"""The main window's volume side: the volume workbench shown instead of the canvas while a CT volume is open,
and the main window's keys and panels routed to it."""
from __future__ import annotations

from datasets.errors import XwbError
from datasets.regions import Region
from datasets.stores import ImageRecord
from workbench.volume.panel import FROM_2D, VolumeWorkbench


class VolumeMode:
    """The main window's volume side: the workbench shown instead of the canvas while a volume is open."""

    def __init__(self, window, stack):
        self.w, self.stack = window, stack
        self.view: VolumeWorkbench | None = None

    @property
    def active(self) -> bool:
        return self.view is not None and self.stack.currentWidget() is self.view

    def open(self, rec: ImageRecord) -> None:
        if self.view is None:
            self.view = VolumeWorkbench(self.w.session, self.w.history, self.w.tax, self.w.push)
            self.view.message.connect(self.w.message)
            self.view.selection_changed.connect(self._selected)
            self.stack.addWidget(self.view)
        self.view.class_id = self.w.class_id
        self.stack.setCurrentWidget(self.view)
        tool = self.w.canvas.tool
        self.view.use_tool(FROM_2D.get(tool.name, "navigate") if tool is not None else "navigate")
        try:
            self.view.open(rec)
        except XwbError as e:
            self.w.images.model.set_error(rec.id, str(e))
            self.w.message(f"cannot show this volume: {e}")
            return
        d = self.view.disp
        assert d is not None
        self.w.message(f"{rec.path}: {d.shape[2]}×{d.shape[1]}×{d.shape[0]} voxels (x×y×z), "
                       f"{rec.bit_depth}-bit {rec.layout} CT", 4000)
        self.view.setFocus()

    def leave(self) -> None:
        if self.view is not None:
            self.view.close_volume()
        self.stack.setCurrentIndex(0)

    def show_regions(self, regions: list[Region]) -> None:
        assert self.view is not None
        self.view.hidden = set(self.w.hidden)
        self.view.reload_regions(regions)
        self.w.regions.show_regions(regions, self.w.hidden)
        self.w.regions.show_selection(next((r for r in regions if r.id == self.view.selected), None))

    def _selected(self, region_id) -> None:
        if self.view is not None:
            self.w.regions.show_selection(next((r for r in self.view.regions if r.id == region_id), None))

    def select(self, region_id: int | None) -> None:
        assert self.view is not None
        self.view.select(region_id)
        if region_id is not None:
            self.view.centre_on(region_id)

    def use_tool(self, name: str) -> bool:
        """The main window's tool key, on a volume; False when no volume is in view."""
        if not self.active or self.view is None:
            return False
        self.view.use_tool(name)
        for n in self.w.tools:
            self.w.acts[n].setChecked(n == name)
        return True

    def hide(self, hidden: set[int]) -> None:
        if self.active and self.view is not None:
            self.view.hidden = set(hidden)
            self.view.redraw()

    def set_class(self, class_id: int) -> None:
        if self.view is not None:
            self.view.set_class(class_id)

    def fill_between(self) -> None:
        """Shift+F: fill the selected object between the slices it was drawn on."""
        if self.active and self.view is not None and not self.w.readonly:
            self.view.fill_between()
        else:
            self.w.message("fill between slices is for CT volumes")
