"""The main window: wires the store session, canvas, tools and panels together (no drawing logic here)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap, QUndoStack
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QInputDialog, QLabel, QMainWindow, QVBoxLayout, QWidget)

from datasets.errors import XwbError
from workbench import actions
from workbench.canvas.overlays import RegionItem
from workbench.canvas.scan_item import ScanItem
from workbench.canvas.tools import BrushTool, PolygonTool, RectTool, SelectTool
from workbench.canvas.view import CanvasView
from workbench.commands import DeleteRegion, ImageField, ReplaceRegion
from workbench.loader import Loader
from workbench.panels.annotation import ImagePanel, Palette, RegionList
from workbench.panels.display_panel import DisplayPanel
from workbench.panels.image_list import ImageListPanel
from workbench.render import MODES, default_display
from workbench.session import Session

ORG, APP = "xwb", "workbench"


def settings() -> QSettings:
    return QSettings(ORG, APP)


class MainWindow(QMainWindow):
    def __init__(self, folder: str | Path, author: str | None = None):
        super().__init__()
        st = settings()
        author = author or st.value("annotator", "") or None
        self.session = Session.open(folder, author)
        self.project = self.session.project
        self.tax = self.project.taxonomy
        self.readonly = self.session.readonly
        self.undo = QUndoStack(self)
        self.loader = Loader()
        self.image = None
        self.scan = None
        self.token = 0
        self.class_id = self.tax.classes[0].id if self.tax.classes else 1
        self.brush_size = 12
        self.selected: RegionItem | None = None
        self.hidden: set[int] = set()
        self.show_overlays = True
        self.opacity = 0.45
        self.display = None
        self._remember(folder)
        self._build_ui()
        self.session.regions_changed.connect(self._regions_changed)
        self.session.image_changed.connect(self._image_changed)
        self.loader.sig.loaded.connect(self._loaded)
        self.loader.sig.built.connect(self._built)
        self.loader.sig.failed.connect(self._failed)
        self.loader.sig.thumb.connect(self._thumb)
        self._beat = QTimer(self, interval=10_000)
        self._beat.timeout.connect(self.session.heartbeat)
        self._beat.start()
        self.refresh()
        self.tool_select() if self.readonly else self.tool_polygon()
        order = self.images.order()
        if order:
            self.open_image(order[0])

    # -- layout ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.setWindowTitle(f"xwb — {self.project.name}{' (read-only)' if self.readonly else ''}")
        self.canvas = CanvasView()
        self.banner = QLabel(f"Read-only: this project is being edited in {self.session.other_editor}. "
                             "Your view follows its saved changes (F5).")
        self.banner.setStyleSheet("background:#f6d44a;color:#222;padding:6px;font-weight:bold")
        self.banner.setVisible(self.readonly)
        center = QWidget()
        lay = QVBoxLayout(center)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.canvas)
        self.setCentralWidget(center)
        self.images = ImageListPanel(self.tax)
        self.images.activated.connect(self.open_image)
        self.palette = Palette(self.tax)
        self.palette.chosen.connect(self._class_chosen)
        self.regions = RegionList(self.tax)
        self.regions.selected.connect(self._select_id)
        self.regions.hide_toggled.connect(self._hide)
        self.regions.accept.connect(self.accept_selected)
        self.regions.delete.connect(self.delete_selected)
        self.regions.reclass.connect(self._reclass)
        self.panel = ImagePanel(self.tax)
        self.panel.status_set.connect(lambda v: self._set_field("status", v))
        self.panel.tags_set.connect(lambda v: self._set_field("tags", v))
        self.panel.comment_set.connect(lambda v: self._set_field("comment", v))
        self.panel.manifest_set.connect(lambda v: self._set_field("manifest", v))
        self.disp = DisplayPanel()
        self.disp.changed.connect(self._display_changed)
        self.disp.opacity_changed.connect(self._opacity)
        self.disp.auto_requested.connect(self.auto_window)
        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        for title, w, area in (("Images", self.images, L), ("Classes", self.palette, R), ("Regions", self.regions, R),
                               ("Image", self.panel, R), ("Display", self.disp, L)):
            d = QDockWidget(title, self)
            d.setObjectName(title)
            d.setWidget(w)
            self.addDockWidget(area, d)
        self.tools = {"select": SelectTool(self), "polygon": PolygonTool(self), "rectangle": RectTool(self),
                      "brush": BrushTool(self), "eraser": BrushTool(self, erase=True)}
        self.acts = actions.build(self)
        tb = self.addToolBar("tools")
        tb.setObjectName("tools")
        for n in ("select", "polygon", "rectangle", "brush", "eraser", "fit", "undo", "redo"):
            tb.addAction(self.acts[n])
        self.pos_label, self.value_label, self.zoom_label, self.tool_label = QLabel(), QLabel(), QLabel(), QLabel()
        for w in (self.tool_label, self.pos_label, self.value_label, self.zoom_label):
            self.statusBar().addPermanentWidget(w)
        self.canvas.cursor_moved.connect(self._cursor)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"zoom {z * 100:.0f}%"))
        self.canvas.window_dragged.connect(self._wl_drag)
        for n in ("polygon", "rectangle", "brush", "eraser", "delete", "fill", "accept"):
            self.acts[n].setEnabled(not self.readonly)

    def _remember(self, folder) -> None:
        st = settings()
        recent = [str(Path(folder).resolve())] + [p for p in (st.value("recent", []) or []) if p != str(Path(folder).resolve())]
        st.setValue("recent", recent[:10])

    # -- images ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the list and the current image's regions from the store (other writers' changes)."""
        st = self.project.store
        recs = st.images()
        self.images.model.load(recs, st.region_counts(), st.region_classes_by_image("accepted"))
        self.images.proxy.sort(-1)
        missing = [(r.id, str(self.project.image_path(r))) for r in recs if r.id not in self.images.model.thumbs]
        if missing:
            self.loader.thumbnails(missing)
        if self.image is not None:
            self.image = st.image(self.image.id)
            self.images.highlight(self.image.id)
            self._show_image_fields()
            self._load_regions()

    def open_image(self, image_id: int) -> None:
        if self.image is not None and self.image.id == image_id:
            return
        self.panel.flush()
        for t in self.tools.values():
            t.cancel()
        self.image = self.project.store.image(image_id)
        self.select(None)
        self.hidden.clear()
        self.images.highlight(image_id)
        self._show_image_fields()
        self.canvas.set_scan(None)
        self.statusBar().showMessage(f"loading {self.image.path}…")
        self.token = self.loader.load(image_id, str(self.project.image_path(self.image)))

    def _loaded(self, token: int, scan, pyramid) -> None:
        if token != self.token:
            return
        self.scan = scan
        d = default_display(scan.pixels, scan.meta, scan.info.bit_depth)
        if self.display is not None and self.display.mode in MODES and (scan.pixels.ndim == 3) == (self.display.mode != "high"):
            d = d.change(mode=self.display.mode, invert=self.display.invert, gamma=self.display.gamma,
                         strip=self.display.strip, enhance=self.display.enhance)
        self.display = d
        self.disp.show_display(d)
        self.canvas.set_scan(ScanItem(pyramid, d))
        self.canvas.fit()
        self._load_regions()
        self.statusBar().showMessage(f"{self.image.path}: {scan.info.width}×{scan.info.height} "
                                     f"{scan.info.bit_depth}-bit {scan.info.layout}", 4000)

    def _built(self, token: int) -> None:
        if token == self.token and self.canvas.scan_item is not None:
            self.canvas.scan_item.refresh()

    def _failed(self, token: int, image_id: int, msg: str) -> None:
        self.images.model.set_error(image_id, msg)
        if token == self.token:
            self.statusBar().showMessage(f"cannot show this scan: {msg}")

    def _thumb(self, image_id: int, arr) -> None:
        a = np.ascontiguousarray(arr)
        img = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8).copy()
        self.images.model.set_thumb(image_id, QPixmap.fromImage(img))

    def _walk(self, step: int) -> None:
        order = self.images.order()
        if not order:
            return
        i = order.index(self.image.id) if self.image is not None and self.image.id in order else -step
        self.open_image(order[(i + step) % len(order)])

    def next_image(self) -> None:
        self._walk(1)

    def prev_image(self) -> None:
        self._walk(-1)

    def mark_done_next(self) -> None:
        if self.image is not None and not self.readonly:
            self._set_field("status", "done")
        self.next_image()

    # -- regions ---------------------------------------------------------------------
    def class_color(self) -> tuple[int, int, int]:
        return self.tax.by_id(self.class_id).rgb

    def _color(self, class_id: int) -> tuple[int, int, int]:
        return self.tax.by_id(class_id).rgb if class_id in self.tax.ids else (255, 0, 255)

    def _load_regions(self) -> list:
        """Show the current image's regions from the store; returns them."""
        if self.image is None:
            return []
        regions = self.project.store.regions(self.image.id)
        if self.canvas.scan_item is None:
            return regions
        sel = self.selected.region.id if self.selected is not None else None
        items = [RegionItem(r, self._color(r.class_id), self.opacity) for r in regions]
        for it in items:
            it.setVisible(self.show_overlays and it.region.id not in self.hidden)
        self.canvas.set_regions(items)
        self.selected = None
        self.select(next((it for it in items if it.region.id == sel), None))
        self.regions.show_regions(regions, self.hidden, sel)
        return regions

    def _regions_changed(self, image_id: int) -> None:
        """An edit of the current image: its regions and its row of the list, not the whole table."""
        if self.image is not None and image_id == self.image.id:
            regions = self._load_regions()
            self.images.model.set_regions(image_id, len(regions),
                                          {r.class_id for r in regions if r.state == "accepted"})

    def select(self, item: RegionItem | None) -> None:
        if self.selected is not None and self.selected in self.canvas.region_items:
            self.selected.selected = False
            self.selected.update()
        self.selected = item
        if item is not None:
            item.selected = True
            item.update()

    def _select_id(self, region_id: int) -> None:
        self.select(next((it for it in self.canvas.region_items if it.region.id == region_id), None))

    def _hide(self, region_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(region_id)
        for it in self.canvas.region_items:
            if it.region.id == region_id:
                it.setVisible(self.show_overlays and not hidden)

    def _class_chosen(self, class_id: int) -> None:
        self.class_id = class_id
        self.tool_label.setText(f"{self.canvas.tool.name if self.canvas.tool else ''} · "
                                f"{self.tax.by_id(class_id).name} · brush {self.brush_size}px")

    def _reclass(self, class_id: int) -> None:
        if self.selected is None or self.readonly or self.selected.region.class_id == class_id:
            return
        r = self.selected.region
        self.undo.push(ReplaceRegion(self.session, self.image.id, r, r.copy(class_id=class_id), "change class"))

    def keyPressEvent(self, e) -> None:
        text = e.text()
        c = next((c for c in self.tax.classes if c.hotkey and c.hotkey == text), None)
        if c is not None and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.palette.choose(c.id)
            self._reclass(c.id)
            return
        super().keyPressEvent(e)

    def delete_selected(self) -> None:
        if self.selected is not None and not self.readonly:
            r = self.selected.region
            self.select(None)
            self.undo.push(DeleteRegion(self.session, self.image.id, r))

    def accept_selected(self) -> None:
        if self.selected is not None and not self.readonly and self.selected.region.state == "proposal":
            r = self.selected.region
            self.undo.push(ReplaceRegion(self.session, self.image.id, r, r.copy(state="accepted"), "accept proposal"))

    def fill_holes(self) -> None:
        if self.selected is None or self.readonly or self.selected.region.mask is None:
            return
        from scipy.ndimage import binary_fill_holes

        r = self.selected.region
        filled = binary_fill_holes(r.mask)
        if (filled != r.mask).any():
            self.undo.push(ReplaceRegion(self.session, self.image.id, r, r.copy(mask=filled), "fill holes"))

    # -- image fields ----------------------------------------------------------------
    def _show_image_fields(self) -> None:
        if self.image is not None:
            self.panel.show_image(self.image, self.project.store.tag_proposals(self.image.id))

    def _set_field(self, field: str, value) -> None:
        if self.image is None or self.readonly:
            return
        before = getattr(self.image, field)
        if (sorted(before) if isinstance(before, list) else before) == (sorted(value) if isinstance(value, list) else value):
            return
        self.undo.push(ImageField(self.session, self.image.id, field, before, value))

    def _image_changed(self, image_id: int) -> None:
        rec = self.project.store.image(image_id)
        m = self.images.model
        i = m.row_of(image_id)
        if i >= 0:
            m.rows[i] = rec
            m.dataChanged.emit(m.index(i, 0), m.index(i, 4))
        if self.image is not None and image_id == self.image.id:
            self.image = rec
            self._show_image_fields()

    # -- display ---------------------------------------------------------------------
    def _display_changed(self, d) -> None:
        self.display = d
        if self.canvas.scan_item is not None:
            self.canvas.scan_item.set_display(d)

    def _wl_drag(self, dx: float, dy: float) -> None:
        if self.display is None:
            return
        lo, hi = self.display.window
        width, level = hi - lo, (hi + lo) / 2
        k = self.display.max_value / 2000.0
        width = max(2.0, width + dx * k)
        level = level - dy * k
        d = self.display.change(window=(level - width / 2, level + width / 2))
        self.disp.show_display(d)
        self._display_changed(d)

    def auto_window(self) -> None:
        if self.scan is None:
            return
        from datasets.display import auto_window

        px = self.scan.pixels
        d = self.display.change(window=auto_window(px[..., 1] if px.ndim == 3 and self.display.mode == "low" else
                                                   (px[..., 0] if px.ndim == 3 else px)))
        self.disp.show_display(d)
        self._display_changed(d)

    def toggle_invert(self) -> None:
        if self.display is not None:
            d = self.display.change(invert=not self.display.invert)
            self.disp.show_display(d)
            self._display_changed(d)

    def next_mode(self) -> None:
        if self.display is None or self.scan is None:
            return
        modes = MODES if self.scan.pixels.ndim == 3 and self.scan.pixels.shape[2] >= 2 else ("high",)
        d = self.display.change(mode=modes[(modes.index(self.display.mode) + 1) % len(modes)]
                                if self.display.mode in modes else modes[0])
        self.disp.show_display(d)
        self._display_changed(d)

    def _opacity(self, v: float) -> None:
        self.opacity = v
        for it in self.canvas.region_items:
            it.opacity_ = v
            it.update()

    def toggle_overlays(self) -> None:
        self.show_overlays = not self.show_overlays
        for it in self.canvas.region_items:
            it.setVisible(self.show_overlays and it.region.id not in self.hidden)

    def _cursor(self, x: float, y: float) -> None:
        self.pos_label.setText(f"x {x:.0f}  y {y:.0f}")
        if self.scan is None:
            return
        ix, iy = int(np.floor(x)), int(np.floor(y))
        h, w = self.scan.pixels.shape[:2]
        if 0 <= ix < w and 0 <= iy < h:
            v = self.scan.pixels[iy, ix]
            names = ["H", "L", "C"]
            self.value_label.setText("  ".join(f"{names[i] if np.ndim(v) else 'v'} {int(c)}"
                                               for i, c in enumerate(np.atleast_1d(v))))
        else:
            self.value_label.setText("")

    # -- view and tools --------------------------------------------------------------
    def fit(self) -> None:
        self.canvas.fit()

    def one_to_one(self) -> None:
        self.canvas.one_to_one()

    def zoom_in(self) -> None:
        self.canvas.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.canvas.zoom_by(0.8)

    def _use(self, name: str) -> None:
        if self.readonly and name != "select":
            name = "select"
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.canvas.tool = self.tools[name]
        self.canvas.viewport().setCursor(self.canvas.tool.cursor)
        for n in self.tools:
            self.acts[n].setChecked(n == name)
        self._class_chosen(self.class_id)

    def tool_select(self) -> None:
        self._use("select")

    def tool_polygon(self) -> None:
        self._use("polygon")

    def tool_rectangle(self) -> None:
        self._use("rectangle")

    def tool_brush(self) -> None:
        self._use("brush")

    def tool_eraser(self) -> None:
        self._use("eraser")

    def brush_smaller(self) -> None:
        self.brush_size = max(1, int(self.brush_size / 1.25))
        self._class_chosen(self.class_id)

    def brush_bigger(self) -> None:
        self.brush_size = min(500, int(self.brush_size * 1.25) + 1)
        self._class_chosen(self.class_id)

    def do_undo(self) -> None:
        self.undo.undo()

    def do_redo(self) -> None:
        self.undo.redo()

    # -- misc ------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        actions.ShortcutsDialog(self).exec()

    def ask_annotator(self) -> None:
        name, ok = QInputDialog.getText(self, "Annotator", "Name recorded with every edit:", text=self.session.author)
        if ok and name.strip():
            self.session.author = name.strip()
            settings().setValue("annotator", self.session.author)

    def choose_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            try:
                w = MainWindow(folder)
            except XwbError as e:
                self.statusBar().showMessage(str(e))
                return
            w.resize(self.size())
            w.show()
            self._others = getattr(self, "_others", []) + [w]

    def closeEvent(self, e) -> None:
        if not getattr(self, "_closed", False):
            self._closed = True
            self.panel.flush()
            self.loader.shutdown()
            self._beat.stop()
            self.session.close()
        super().closeEvent(e)
