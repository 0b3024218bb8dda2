"""The main window: wires the store session, canvas, tools and panels together (no drawing logic here).

The window is composed of parts that it hands itself to, typed by ``workbench.editor``: ``editing``
(``editing.py``: every edit saved before it is shown, undo per image) and ``viewing`` (``view_controls.py``:
display mapping, zoom); the tools (``workbench/tools``) and the Models panel. Here: layout, the image list
and loading, regions on screen and the one selection, tools, and following other writers (a read-only
window disables every edit widget and follows the editor by itself).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from datasets.errors import StoreError, XwbError
from datasets.regions import IGNORE_RGB, Region
from datasets.scan import Scan
from datasets.stores import ImageRecord
from workbench import actions, tools
from workbench.assist.signal import ScanSignal
from workbench.canvas.overlays import RegionItem
from workbench.canvas.scan_item import ScanItem
from workbench.canvas.view import CanvasView
from workbench.editing import Editing
from workbench.history import History
from workbench.loader import Loader
from workbench.panels.alert import AlertBar
from workbench.panels.annotation import ImagePanel, Palette, RegionList
from workbench.panels.display_panel import DisplayPanel
from workbench.panels.image_list import ImageListPanel
from workbench.panels.models_panel import ModelsPanel
from workbench.session import Session
from workbench.view_controls import ViewControls
from workbench.volume.mode import VolumeMode

ORG, APP = "xwb", "workbench"
POLL_MS = 1000  # how often the view checks the store for other writers' commits


def settings() -> QSettings:
    return QSettings(ORG, APP)


def _project_key(folder: Path) -> str:
    return "last_image/" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]


class MainWindow(QMainWindow):
    def __init__(self, folder: str | Path, author: str | None = None):
        super().__init__()
        st = settings()
        author = author or str(st.value("annotator", "") or "") or None
        self.session = Session.open(folder, author)
        self.project = self.session.project
        self.tax = self.project.taxonomy
        self.readonly = self.session.readonly
        self.history = History()
        self.loader = Loader()
        self.image: ImageRecord | None = None
        self.scan: Scan | None = None
        self._signal: ScanSignal | None = None  # the scan in view as assisted tools read it ...
        self._signal_of: Scan | None = None     # ... and the scan it was read from
        self.token = 0
        self.class_id = self.tax.classes[0].id if self.tax.classes else 1
        self.brush_size = 12
        self.selected: RegionItem | None = None
        self.hidden: set[int] = set()
        self.show_rejected = False
        self.closed = False
        self.editing = Editing(self)
        self.viewing = ViewControls(self)
        self._refresh_due = False
        self._refresh_not_before = 0.0
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
        self._data_version = self.project.store.data_version()
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._poll_store)
        self._poll.start()
        self.refresh()
        self.use_tool("select" if self.readonly else "polygon")
        order = self.images.order()
        if order:
            last = st.value(_project_key(self.project.folder))
            last = int(last) if last is not None and str(last).isdigit() else None
            self.open_image(last if last in order else order[0])

    # -- layout ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.setWindowTitle(f"xwb — {self.project.name}{' (read-only)' if self.readonly else ''}")
        self.canvas = CanvasView()
        self.banner = QLabel(self.session.readonly_reason)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#f6d44a;color:#222;padding:6px;font-weight:bold")
        self.banner.setVisible(self.readonly)
        self.alert_bar = AlertBar()
        self.alert = self.alert_bar.label
        center = QWidget()
        lay = QVBoxLayout(center)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.alert_bar)
        self.stack = QStackedWidget()  # the canvas, or the volume workbench while a CT volume is open
        self.stack.addWidget(self.canvas)
        self.volumes = VolumeMode(self, self.stack)
        lay.addWidget(self.stack)
        self.setCentralWidget(center)
        self.images = ImageListPanel(self.tax, self.project.image_root)
        self.images.activated.connect(self.open_image)
        self.class_palette = Palette(self.tax)
        self.class_palette.chosen.connect(self._class_chosen)
        self.regions = RegionList(self.tax)
        self.regions.selected.connect(self.select_region)
        self.regions.hide_toggled.connect(self._hide)
        self.regions.accept.connect(self.editing.accept_selected)
        self.regions.delete.connect(self.editing.delete_selected)
        self.regions.reclass.connect(self.editing.reclass)
        self.panel = ImagePanel(self.tax)
        self.panel.status_set.connect(lambda v: self.editing.set_field("status", v))
        self.panel.tags_set.connect(lambda v: self.editing.set_field("tags", v))
        self.panel.comment_set.connect(lambda v: self.editing.set_field("comment", v))
        self.panel.manifest_set.connect(lambda v: self.editing.set_field("manifest", v))
        self.panel.escape_to(self.canvas)
        self.disp = DisplayPanel()
        self.disp.changed.connect(self.viewing.set_display)
        self.disp.opacity_changed.connect(self.viewing.set_opacity)
        self.disp.auto_requested.connect(self.viewing.auto_window)
        self.models = ModelsPanel(self)
        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.docks: dict[str, QDockWidget] = {}
        for title, w, area in (("Images", self.images, L), ("Classes", self.class_palette, R), ("Regions", self.regions, R),
                               ("Image", self.panel, R), ("Display", self.disp, L), ("Models", self.models, R)):
            d = QDockWidget(title, self)
            d.setObjectName(title)
            d.setWidget(w)
            self.addDockWidget(area, d)
            self.docks[title] = d
        self.tabifyDockWidget(self.docks["Image"], self.docks["Models"])  # a tab beside the scan's fields
        self.docks["Image"].raise_()
        self._sized = False
        self.tools = {cls.name: cls(self) for cls in tools.registered()}
        self.acts = actions.build(self)
        tb = self.addToolBar("tools")
        tb.setObjectName("tools")
        for n in [*self.tools, "fit", "undo", "redo"]:
            tb.addAction(self.acts[n])
        self.pos_label, self.value_label, self.zoom_label, self.tool_label = QLabel(), QLabel(), QLabel(), QLabel()
        for label in (self.tool_label, self.pos_label, self.value_label, self.zoom_label):
            self.statusBar().addPermanentWidget(label)
        self.canvas.cursor_moved.connect(self.viewing.cursor)
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"zoom {z * 100:.3g}%"))
        self.canvas.window_dragged.connect(self.viewing.wl_drag)
        if self.readonly:
            for n in actions.editing():
                self.acts[n].setEnabled(False)
            self.panel.set_readonly(True)
            self.regions.set_readonly(True)
            self.class_palette.setEnabled(False)
        self.editing.update_undo_actions()

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if not self._sized:  # file names stay readable beside status, regions and uncertainty
            self._sized = True
            if self.width() >= 1400:  # (a small window keeps its room for the scan)
                self.resizeDocks([self.docks["Images"]], [420], Qt.Orientation.Horizontal)

    def _remember(self, folder) -> None:
        st = settings()
        here = str(Path(folder).resolve())
        before = st.value("recent", []) or []
        recent = [here] + [str(p) for p in (before if isinstance(before, list) else [before]) if str(p) != here]
        st.setValue("recent", recent[:10])

    # -- the editor interface tools use (workbench/editor.py) -----------------------------
    @property
    def selected_region(self) -> Region | None:
        return self.selected.region if self.selected is not None else None

    def regions_in_view(self) -> list[Region]:
        return [it.region for it in self.canvas.region_items]

    def message(self, text: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(text, ms)

    def push(self, cmd) -> bool:
        """Apply an undoable command to the image in view (``Editing.push``)."""
        return self.editing.push(cmd)

    def delete_selected(self) -> None:
        self.editing.delete_selected()

    def widget(self) -> QWidget:
        return self

    def scan_signal(self) -> ScanSignal | None:
        """The scan in view as assisted tools read it (attenuation of windows at native depth)."""
        if self.scan is None:
            return None
        if self._signal_of is not self.scan:
            self._signal, self._signal_of = ScanSignal.of_scan(self.scan), self.scan
        return self._signal

    # -- what the Models panel uses (workbench/panels/models_panel.py: ModelsHost) ---------------
    def listed_images(self) -> list[int]:
        return self.images.order()

    def accept_proposals(self, image_ids: list[int], min_score: float, source: str | None = None) -> tuple[int, int]:
        return self.editing.accept_proposals(image_ids, min_score, source)

    def show_uncertainty(self, values: dict[int, float], model: str) -> None:
        self.images.show_uncertainty(values, model)

    def show_models(self) -> None:
        self.docks["Models"].show()
        self.docks["Models"].raise_()

    # -- images ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the list and the current image's regions from the store (other writers' changes)."""
        if self.closed:
            return
        self.panel.flush()
        st = self.project.store
        recs = st.images()
        self.images.model.load(recs, st.region_counts(), st.region_classes_by_image("accepted"))
        self.images.resort()
        missing = [(r.id, str(self.project.image_path(r)), r.axes or None) for r in recs
                   if r.id not in self.images.model.thumbs]
        if missing:
            self.loader.thumbnails(missing)
        if self.image is not None:
            self.image = st.image(self.image.id)
            self.images.highlight(self.image.id)
            self.show_image_fields()
            self.load_regions()

    def _poll_store(self) -> None:
        """Follow other writers (a read-only window's editor, prelabel, import) without F5."""
        if self.closed:
            return
        self.update_tool_label()  # (a tool's state can change off the GUI thread: a model finished loading)
        try:
            v = self.project.store.data_version()
        except StoreError:
            return
        if v != self._data_version:
            self._data_version = v
            self._refresh_due = True
        if self._refresh_due and QGuiApplication.mouseButtons() == Qt.MouseButton.NoButton \
                and time.monotonic() >= self._refresh_not_before:
            self._refresh_due = False  # (never in the middle of a drag: it waits for the next tick)
            t = time.monotonic()
            self.refresh()
            # a busy writer (prelabel over a large project) must not keep the GUI reloading the whole list:
            # at most a tenth of the time goes to following it
            self._refresh_not_before = time.monotonic() + 9 * (time.monotonic() - t)

    def open_image(self, image_id: int) -> None:
        if self.closed or (self.image is not None and self.image.id == image_id):
            return
        self.panel.flush()
        for t in self.tools.values():
            t.cancel()
        self.image = self.project.store.image(image_id)
        self.select(None)
        self.hidden.clear()
        self.images.highlight(image_id)
        self.show_image_fields()
        self.canvas.set_scan(None)
        self.scan = None
        settings().setValue(_project_key(self.project.folder), image_id)
        if self.image.is_volume:  # memory-mapped: opened at once, nothing to load in the background
            self.volumes.open(self.image)
            self.load_regions()
            self.editing.update_undo_actions()
            return
        self.volumes.leave()
        self.statusBar().showMessage(f"loading {self.image.path}…")
        self.token = self.loader.load(image_id, str(self.project.image_path(self.image)), self.image.axes or None)
        self.editing.update_undo_actions()

    def _loaded(self, token: int, scan, pyramid) -> None:
        if self.closed or token != self.token or self.image is None:
            return
        self.scan = scan
        d = self.viewing.scan_loaded(scan)  # a new scan opens with its automatic window
        self.canvas.set_scan(ScanItem(pyramid, d))
        self.canvas.fit()
        self.load_regions()
        self.statusBar().showMessage(f"{self.image.path}: {scan.info.width}×{scan.info.height} "
                                     f"{scan.info.bit_depth}-bit {scan.info.layout}", 4000)

    def _built(self, token: int) -> None:
        if not self.closed and token == self.token and self.canvas.scan_item is not None:
            self.canvas.scan_item.refresh()

    def _failed(self, token: int, image_id: int, msg: str) -> None:
        if self.closed:
            return
        self.images.model.set_error(image_id, msg)
        if token == self.token:
            self.statusBar().showMessage(f"cannot show this scan: {msg}")

    def _thumb(self, image_id: int, arr) -> None:
        if self.closed:
            return
        a = np.ascontiguousarray(arr)
        img = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8).copy()
        self.images.model.set_thumb(image_id, QPixmap.fromImage(img))

    def _walk(self, step: int) -> None:
        order = self.images.order()
        if not order:
            return
        i = order.index(self.image.id) if self.image is not None and self.image.id in order else -step
        self.open_image(order[(i + step) % len(order)])
        self.canvas.setFocus()

    def next_image(self) -> None:
        self._walk(1)

    def prev_image(self) -> None:
        self._walk(-1)

    # -- regions ---------------------------------------------------------------------
    def class_color(self) -> tuple[int, int, int]:
        return self.tax.by_id(self.class_id).rgb

    def _color(self, region) -> tuple[int, int, int]:
        if region.ignore:
            return IGNORE_RGB  # "don't care" areas: VOC's pale grey, whatever their class
        return self.tax.by_id(region.class_id).rgb if region.class_id in self.tax.ids else (255, 0, 255)

    def load_regions(self) -> list:
        """Show the current image's regions from the store; returns them."""
        if self.image is None or self.closed:
            return []
        regions = self.project.store.regions(self.image.id, include_rejected=self.show_rejected)
        if self.volumes.active:
            self.volumes.show_regions(regions)
            return [r for r in regions if r.state != "rejected"]
        if self.canvas.scan_item is None:
            return regions
        sel = self.selected.region.id if self.selected is not None else None
        items = [RegionItem(r, self._color(r), self.viewing.opacity) for r in regions]
        for it in items:
            it.setVisible(self.viewing.show_overlays and it.region.id not in self.hidden)
        self.canvas.set_regions(items)
        self.selected = None
        self.regions.show_regions(regions, self.hidden)
        self.select(next((it for it in items if it.region.id == sel), None))
        return [r for r in regions if r.state != "rejected"]

    def _regions_changed(self, image_id: int) -> None:
        """An edit of the current image: its regions and its row of the list, not the whole table."""
        if self.image is not None and image_id == self.image.id:
            regions = self.load_regions()
            self.images.model.set_regions(image_id, len(regions),
                                          {r.class_id for r in regions if r.state == "accepted"})

    def select(self, item: RegionItem | None) -> None:
        """The one selection: canvas outline, Regions row and class box all show it."""
        if self.selected is not None and self.selected in self.canvas.region_items:
            self.selected.selected = False
            self.selected.update()
        self.selected = item
        if item is not None:
            item.selected = True
            item.update()
        self.regions.show_selection(item.region if item is not None else None)
        self.update_tool_label()

    def select_region(self, region_id: int | None) -> None:
        if self.volumes.active:
            self.volumes.select(region_id)
            return
        self.select(next((it for it in self.canvas.region_items if it.region.id == region_id), None))

    def _hide(self, region_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(region_id)
        self.volumes.hide(self.hidden)
        for it in self.canvas.region_items:
            if it.region.id == region_id:
                it.setVisible(self.viewing.show_overlays and not hidden)

    def _class_chosen(self, class_id: int) -> None:
        self.class_id = class_id
        self.volumes.set_class(class_id)
        self.update_tool_label()

    def update_tool_label(self) -> None:
        tool = self.canvas.tool
        if tool is None:
            return
        self.tool_label.setText(tool.status())

    def keyPressEvent(self, e) -> None:
        text = e.text()
        c = next((c for c in self.tax.classes if c.hotkey and c.hotkey == text), None)
        if c is not None and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.class_palette.choose(c.id)
            self.editing.reclass(c.id)
            return
        super().keyPressEvent(e)

    def toggle_rejected(self) -> None:
        self.show_rejected = not self.show_rejected
        self.acts["show_rejected"].setChecked(self.show_rejected)
        self.load_regions()

    # -- image fields ----------------------------------------------------------------
    def show_image_fields(self) -> None:
        if self.image is not None:
            self.panel.show_image(self.image, self.project.store.tag_proposals(self.image.id))

    def _image_changed(self, image_id: int) -> None:
        rec = self.project.store.image(image_id)
        m = self.images.model
        i = m.row_of(image_id)
        if i >= 0:
            m.rows[i] = rec
            m.dataChanged.emit(m.index(i, 0), m.index(i, 4))
        if self.image is not None and image_id == self.image.id:
            self.image = rec
            self.show_image_fields()

    # -- tools -----------------------------------------------------------------------
    def use_tool(self, name: str) -> None:
        """Make the tool called ``name`` the canvas's (a read-only window keeps to tools that edit nothing)."""
        if self.volumes.use_tool(name):
            return
        if self.readonly and self.tools[name].editing:
            name = "select"
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.canvas.tool = self.tools[name]
        self.canvas.tool.activate()
        self.canvas.viewport().setCursor(self.canvas.tool.cursor)
        for n in self.tools:
            self.acts[n].setChecked(n == name)
        self.update_tool_label()

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
            self.panel.flush()
            try:
                w = MainWindow(folder)
            except XwbError as e:
                self.message(str(e))
                return
            w.resize(self.size())
            w.show()
            self._others = getattr(self, "_others", []) + [w]

    def closeEvent(self, e) -> None:
        if not self.closed:
            self.panel.flush()
            self.closed = True  # late loads, thumbnails and polls are ignored from here on
            self._poll.stop()
            self._beat.stop()
            self.models.shutdown()
            self.loader.shutdown()
            self.session.close()
        super().closeEvent(e)
