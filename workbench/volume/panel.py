"""The volume workbench: axial, coronal and sagittal slices and a projection of a CT volume, linked by a
crosshair, with the tools that label in 3-D. Every edit goes to the store when it ends (a stroke, a
polygon, a click), as one undoable step that keeps only the changed region's box."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from datasets import projection
from datasets.calibration import rescale_of
from datasets.errors import XwbError
from datasets.regions import IGNORE_RGB, Region
from datasets.stores import ImageRecord
from datasets.taxonomy import Taxonomy
from datasets.voxel_edit import disk, paint
from workbench.commands import AddRegion, DeleteRegion, ReplaceRegion
from workbench.history import History
from workbench.session import Session
from workbench.volume.display import PLANES, PRESETS, VolumeDisplay, plane_axes
from workbench.volume.edits import TITLES, VolumeEdits
from workbench.volume.plane import PlaneView

TOOLS = ("navigate", "brush", "eraser", "polygon", "grow", "box")
# the 2-D tool names of the main window's keys and toolbar, as the volume tool they stand for
FROM_2D = {"select": "navigate", "brush": "brush", "eraser": "eraser", "polygon": "polygon", "wand": "grow",
           "rectangle": "box"}


class VolumeWorkbench(VolumeEdits, QWidget):
    message = Signal(str)
    selection_changed = Signal(object)  # region id or None

    def __init__(self, session: Session, history: History, taxonomy: Taxonomy, push=None, parent=None):
        """``push``: how an edit is applied (the main window's: errors shown, undo actions updated); by
        default straight into ``history``."""
        super().__init__(parent)
        self.session, self.history, self.tax = session, history, taxonomy
        self._apply = push
        self.image: ImageRecord | None = None
        self.disp: VolumeDisplay | None = None
        self.regions: list[Region] = []
        self.selected: int | None = None
        self.hidden: set[int] = set()
        self.class_id = taxonomy.classes[0].id if taxonomy.classes else 1
        self.tool = "navigate"
        self.radius = 3
        self.tolerance = 300.0  # HU either side of the seed's value (grow)
        self.last_axis = "z"
        self.show_overlays = True
        self._live: Region | None = None      # the region a stroke is changing, before it reaches the store
        self._before: Region | None = None    # ... and what it was when the stroke began
        self._erase = False
        self._stroking = False
        self._last: tuple[int, int] | None = None
        self._box_from: tuple[str, float, float] | None = None
        self._poly_axis = ""
        self.views = {a: PlaneView(a, *plane_axes(a)) for a in PLANES}
        self.proj = PlaneView("y", "z", "x", projection=True)
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.addWidget(self.views["z"], 0, 0)
        grid.addWidget(self.views["y"], 0, 1)
        grid.addWidget(self.views["x"], 1, 0)
        grid.addWidget(self.proj, 1, 1)
        for v in (*self.views.values(), self.proj):
            v.pressed.connect(self._press)
            v.dragged.connect(self._drag)
            v.released.connect(self._release)
            v.double_clicked.connect(self._double)
            v.wheeled.connect(self._wheel)
        bar = QHBoxLayout()
        self.tool_box = QComboBox()
        self.tool_box.addItems(TOOLS)
        self.tool_box.currentTextChanged.connect(self.use_tool)
        self.window_box = QComboBox()
        self.window_box.addItems(list(PRESETS))
        self.window_box.currentTextChanged.connect(self.set_preset)
        self.proj_box = QComboBox()
        self.proj_box.addItems(["radiograph", "MIP"])
        self.proj_box.currentTextChanged.connect(lambda _: self.render_projection())
        self.radius_box = QSpinBox(minimum=1, maximum=40, value=self.radius)
        self.radius_box.valueChanged.connect(self._set_radius)
        self.fill_button = QPushButton("Fill between slices")
        self.fill_button.clicked.connect(lambda: self.fill_between())
        self.accept_button = QPushButton("Accept proposals")
        self.accept_button.clicked.connect(self.accept_proposals)
        self.info = QLabel("")
        for w in (QLabel("tool"), self.tool_box, QLabel("brush"), self.radius_box, QLabel("window"), self.window_box,
                  QLabel("projection"), self.proj_box, self.fill_button, self.accept_button):
            bar.addWidget(w)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addLayout(grid, 1)
        lay.addWidget(self.info)
        if session.readonly:
            for w in (self.fill_button, self.accept_button):
                w.setEnabled(False)

    # -- opening ----------------------------------------------------------------------
    def open(self, rec: ImageRecord) -> None:
        """Show volume ``rec`` (memory-mapped: nothing is read but the planes in view)."""
        scan = self.session.project.read_scan(rec)
        vox = scan.voxels()
        spacing = tuple(scan.info.spacing or (1.0, 1.0, 1.0))[:3]
        self.image = rec
        self.disp = VolumeDisplay(vox if scan.info.channels > 1 else vox[..., 0], rescale_of(scan.meta),
                                  spacing)  # type: ignore[arg-type]
        self.selected = None
        self.hidden.clear()
        self.reload_regions()

    def close_volume(self) -> None:
        self.image, self.disp, self.regions = None, None, []

    def reload_regions(self, regions: list[Region] | None = None) -> None:
        if self.image is None:
            return
        self.regions = regions if regions is not None else self.session.store.regions(self._iid)
        if self.selected is not None and all(r.id != self.selected for r in self.regions):
            self.selected = None
        self.redraw()

    # -- what is shown ----------------------------------------------------------------
    def _colour(self, r: Region) -> tuple[int, int, int]:
        if r.ignore:
            return IGNORE_RGB
        return self.tax.by_id(r.class_id).rgb if r.class_id in self.tax.ids else (255, 0, 255)

    def _shown(self) -> list[tuple[Region, tuple[int, int, int], bool]]:
        if not self.show_overlays:
            return []
        rs = [r for r in self.regions if r.state != "rejected" and r.id not in self.hidden and r.is_3d]
        if self._live is not None:
            rs = [r for r in rs if r.id is None or r.id != self._live.id] + [self._live]
        return [(r, self._colour(r), r.id is not None and r.id == self.selected) for r in rs]

    def _aspect(self, axis: str) -> float:
        assert self.disp is not None
        ra, ca = plane_axes(axis)
        sp = dict(zip("zyx", self.disp.spacing))
        return sp[ra] / sp[ca] if sp[ca] else 1.0

    def redraw(self, axes=PLANES, projection_too: bool = True) -> None:
        """Re-slice the views of ``axes`` (and the projection's overlay); every view's crosshair and title follow
        the cursor. Stepping one view re-slices that view only: O(one plane)."""
        if self.disp is None:
            return
        d = self.disp
        shown = self._shown()
        z, y, x = d.cursor
        pos = {"z": z, "y": y, "x": x}
        for a in PLANES:
            v = self.views[a]
            if a in axes:
                v.set_picture(d.overlay(d.slice_rgb(a), a, shown), self._aspect(a))
            ra, ca = plane_axes(a)
            v.cross = (pos[ra], pos[ca])
            v.title = f"{TITLES[a]} {a} {pos[a] + 1}/{d.shape[projection.AXIS[a]]}"
            v.update()
        if projection_too:
            self.render_projection(shown)
        self.proj.cross = (d.cursor[0], d.cursor[2])
        self.proj.update()
        self._say()

    def render_projection(self, shown=None) -> None:
        """The projection along y (the top-down radiograph, or the MIP) with the regions' shadows."""
        if self.disp is None:
            return
        d = self.disp
        mode = "mip" if self.proj_box.currentText() == "MIP" else "sum"
        rgb = d.projection_rgb("y", mode)
        rgb = d.footprint(rgb, self._shown() if shown is None else shown, "y")
        self.proj.set_picture(rgb, self._aspect("y"))
        self.proj.title = f"projection along y ({'MIP' if mode == 'mip' else 'radiograph'})"

    def _say(self, extra: str = "") -> None:
        if self.disp is None:
            return
        z, y, x = self.disp.cursor
        v = self.disp.value_at(z, y, x)
        cls = self.tax.by_id(self.class_id).name if self.class_id in self.tax.ids else "?"
        self.info.setText(f"z {z} y {y} x {x}: {self.disp.hu(v):.0f} HU   tool {self.tool}   class {cls}   "
                          f"{len(self.regions)} regions{'   ' + extra if extra else ''}")

    # -- settings ---------------------------------------------------------------------
    def use_tool(self, name: str) -> None:
        name = FROM_2D.get(name, name)
        if name not in TOOLS:
            self.message.emit(f"the {name} tool works on 2-D scans; on a volume: {', '.join(TOOLS)}")
            return
        if self.session.readonly and name != "navigate":
            self.message.emit("read-only: only navigating")
            name = "navigate"
        self.tool = name
        if self.tool_box.currentText() != name:
            self.tool_box.setCurrentText(name)
        for v in self.views.values():
            v.brush = self.radius if name in ("brush", "eraser") else 0
            v.outline, v.rubber = [], None
        self._say()

    def _set_radius(self, r: int) -> None:
        self.radius = r
        self.use_tool(self.tool)

    def set_preset(self, name: str) -> None:
        if self.disp is not None and name in PRESETS:
            self.disp.window = PRESETS[name]
            self.redraw()

    def set_window(self, low_hu: float, high_hu: float) -> None:
        if self.disp is not None:
            self.disp.window = (float(low_hu), float(high_hu))
            self.redraw()

    def toggle_material(self) -> None:
        if self.disp is not None:
            self.disp.material = not self.disp.material
            self.redraw()

    def set_class(self, class_id: int) -> None:
        self.class_id = class_id
        self._say()

    def toggle_overlays(self) -> None:
        self.show_overlays = not self.show_overlays
        self.redraw()

    # -- navigation -------------------------------------------------------------------
    def _voxel(self, axis: str, row: float, col: float) -> list[int]:
        """The cursor after a point (row, col) of a view: the view's own slice stays."""
        assert self.disp is not None
        z, y, x = self.disp.cursor
        r, c = int(np.floor(row)), int(np.floor(col))
        pos = {"z": z, "y": y, "x": x}
        ra, ca = plane_axes(axis)
        pos[ra], pos[ca] = r, c
        shape = dict(zip("zyx", self.disp.shape))
        return [int(np.clip(pos[a], 0, shape[a] - 1)) for a in "zyx"]

    def set_cursor(self, z: int, y: int, x: int) -> None:
        if self.disp is None:
            return
        new = [int(np.clip(v, 0, n - 1)) for v, n in zip((z, y, x), self.disp.shape)]
        moved = tuple(a for a, n, o in zip("zyx", new, self.disp.cursor) if n != o)
        self.disp.cursor = new
        self.redraw(moved, projection_too=False)

    def step(self, axis: str, steps: int) -> None:
        """Move the slice of the ``axis`` view by ``steps`` (the other views' crosshairs follow)."""
        if self.disp is None:
            return
        a = projection.AXIS[axis]
        c = list(self.disp.cursor)
        c[a] = int(np.clip(c[a] + steps, 0, self.disp.shape[a] - 1))
        if c != self.disp.cursor:
            self.disp.cursor = c
            self.redraw((axis,), projection_too=False)

    def _wheel(self, axis: str, steps: int) -> None:
        if self.sender() is self.proj:
            return
        self.step(axis, steps)

    def keyPressEvent(self, e) -> None:
        k = e.key()
        focus = next((a for a, v in self.views.items() if v.hasFocus()), self.last_axis)
        big = 10 if e.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        if k in (Qt.Key.Key_Up, Qt.Key.Key_Right):
            self.step(focus, big)
        elif k in (Qt.Key.Key_Down, Qt.Key.Key_Left):
            self.step(focus, -big)
        elif k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tool == "polygon":
            self._close_polygon()
        elif k == Qt.Key.Key_Escape:
            for v in self.views.values():
                v.outline, v.rubber = [], None
                v.update()
        else:
            super().keyPressEvent(e)

    # -- mouse: tools -----------------------------------------------------------------
    def _press(self, axis, row, col, button, mods) -> None:
        if self.disp is None:
            return
        from_proj = self.sender() is self.proj
        if from_proj or self.tool == "navigate" or button == Qt.MouseButton.MiddleButton:
            z, y, x = self._voxel(axis, row, col)
            self.set_cursor(z, y, x)
            return
        self.last_axis = axis
        if self.tool in ("brush", "eraser"):
            self._erase = self.tool == "eraser" or button == Qt.MouseButton.RightButton
            self._begin_stroke()
            self._dab(axis, row, col)
        elif self.tool == "grow" and button == Qt.MouseButton.LeftButton:
            self._grow_at(*self._voxel(axis, row, col))
        elif self.tool == "box" and button == Qt.MouseButton.LeftButton:
            self._box_from = (axis, row, col)
            self.views[axis].rubber = (row, col, row, col)
        elif self.tool == "polygon" and button == Qt.MouseButton.LeftButton:
            v = self.views[axis]
            if self._poly_axis != axis:
                for w in self.views.values():
                    w.outline = []
                self._poly_axis = axis
            v.outline.append((row, col))
            v.update()

    def _drag(self, axis, row, col, buttons) -> None:
        if self.disp is None:
            return
        if self.sender() is self.proj or self.tool == "navigate":
            z, y, x = self._voxel(axis, row, col)
            self.set_cursor(z, y, x)
        elif self.tool in ("brush", "eraser") and self._stroking:
            self._dab(axis, row, col)
        elif self.tool == "box" and self._box_from is not None and self._box_from[0] == axis:
            _, r0, c0 = self._box_from
            self.views[axis].rubber = (r0, c0, row, col)
            self.views[axis].update()

    def _release(self, axis, row, col, button) -> None:
        if self.disp is None:
            return
        if self._stroking:
            self._end_stroke()
        elif self.tool == "box" and self._box_from is not None and self._box_from[0] == axis:
            _, r0, c0 = self._box_from
            self._box_from = None
            self.views[axis].rubber = None
            self.add_box(axis, r0, c0, row, col)

    def _double(self, axis, row, col) -> None:
        if self.tool == "polygon":
            self._close_polygon()

    # -- edits --------------------------------------------------------------------------
    def _target(self) -> Region | None:
        """The region a brush stroke changes: the selected voxel region of the current class, else a new one."""
        r = next((r for r in self.regions if r.id == self.selected), None)
        if r is not None and r.voxels is not None and r.class_id == self.class_id:
            return r
        return None

    def _begin_stroke(self) -> None:
        self._stroking = True
        self._last = None
        self._before = self._target()
        self._live = self._before

    def _dab(self, axis: str, row: float, col: float) -> None:
        """The brush from the last point of the stroke to (row, col): a line as wide as the brush, so a fast
        drag leaves no gaps between mouse events."""
        import cv2

        assert self.disp is not None
        r = self.radius
        rr, cc = int(np.floor(row)), int(np.floor(col))
        pr, pc = self._last if self._last is not None else (rr, cc)
        self._last = (rr, cc)
        r0, c0 = min(rr, pr) - r, min(cc, pc) - r
        m = np.zeros((abs(rr - pr) + 2 * r + 1, abs(cc - pc) + 2 * r + 1), np.uint8)
        cv2.line(m, (pc - c0, pr - r0), (cc - c0, rr - r0), 1, thickness=2 * r + 1)
        for y, x in ((pr, pc), (rr, cc)):
            sub = m[y - r0 - r:y - r0 + r + 1, x - c0 - r:x - c0 + r + 1]
            sub |= disk(r).astype(np.uint8)[:sub.shape[0], :sub.shape[1]]
        attrs = {} if self._live is not None else {"source": "manual", "author": self.session.author}
        self._live = paint(self._live, self.disp.shape, axis, self.disp.cursor[projection.AXIS[axis]], m.astype(bool),
                           c0, r0, add=not self._erase, class_id=self.class_id, **attrs)
        self.redraw((axis,), projection_too=False)

    def _end_stroke(self) -> None:
        self._stroking = False
        before, after = self._before, self._live
        self._before, self._live = None, None
        if before is None and after is None:
            return
        cmd: AddRegion | DeleteRegion | ReplaceRegion
        if before is None:
            assert after is not None
            cmd = AddRegion(self.session, self._iid, self.session.edited(after), "paint voxels")
        elif after is None:
            cmd = DeleteRegion(self.session, self._iid, before, "erase region")
        else:
            cmd = ReplaceRegion(self.session, self._iid, before, self.session.edited(after),
                                "erase voxels" if self._erase else "paint voxels")
        if self._push(cmd) and isinstance(cmd, AddRegion):
            self.select(cmd.region_id)

    def _push(self, cmd) -> bool:
        if self._apply is not None:
            ok = bool(self._apply(cmd))
            if not ok:
                self.reload_regions()
            return ok
        try:
            self.history.push(cmd)
        except XwbError as e:
            self.message.emit(str(e))
            self.reload_regions()
            return False
        return True

    def select(self, region_id: int | None) -> None:
        self.selected = region_id
        r = next((r for r in self.regions if r.id == region_id), None)
        if r is not None:
            self.class_id = r.class_id
        self.selection_changed.emit(region_id)
        self.redraw()

    def centre_on(self, region_id: int) -> None:
        """Move the cursor to the middle of a region (a row picked in the Regions list)."""
        r = next((r for r in self.regions if r.id == region_id), None)
        if r is not None:
            x0, y0, z0, x1, y1, z1 = r.bbox3d()
            self.set_cursor(int((z0 + z1) / 2), int((y0 + y1) / 2), int((x0 + x1) / 2))
