"""The main window: wires the store session, canvas, tools and panels together (no drawing logic here).

Trust rules it keeps:
- every edit is an undoable command that writes the store before the screen shows it; a failed write is
  shown in the alert bar and the view is reloaded from the store (never an edit shown that was not saved);
- undo and redo act on the image in view only (one history per image);
- typed image fields (comment, manifest) reach the store before anything else happens to the image;
- a read-only window disables every edit widget and follows other writers by itself.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMainWindow,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from datasets.errors import XwbError
from datasets.regions import Region
from workbench import actions
from workbench.canvas.overlays import RegionItem
from workbench.canvas.scan_item import ScanItem
from workbench.canvas.tools import BrushTool, PolygonTool, RectTool, SelectTool
from workbench.canvas.view import CanvasView
from workbench.commands import Batch, DeleteRegion, ImageField, ReplaceRegion
from workbench.history import History
from workbench.loader import Loader
from workbench.panels.annotation import ImagePanel, Palette, RegionList
from workbench.panels.display_panel import DisplayPanel
from workbench.panels.image_list import ImageListPanel
from workbench.render import MODES, default_display
from workbench.session import Session

ORG, APP = "xwb", "workbench"
POLL_MS = 1000  # how often the view checks the store for other writers' commits
log = logging.getLogger(__name__)


def settings() -> QSettings:
    return QSettings(ORG, APP)


def _project_key(folder: Path) -> str:
    return "last_image/" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]


class _FocusBack(QObject):
    """Esc in a text field hands the keyboard back to the canvas, where single-key shortcuts live."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas

    def eventFilter(self, obj, e) -> bool:
        if e.type() == QEvent.Type.KeyPress and e.key() == Qt.Key.Key_Escape:
            self.canvas.setFocus()
            return True
        return False


class MainWindow(QMainWindow):
    def __init__(self, folder: str | Path, author: str | None = None):
        super().__init__()
        st = settings()
        author = author or st.value("annotator", "") or None
        self.session = Session.open(folder, author)
        self.project = self.session.project
        self.tax = self.project.taxonomy
        self.readonly = self.session.readonly
        self.history = History()
        self.loader = Loader()
        self.image = None
        self.scan = None
        self.token = 0
        self.class_id = self.tax.classes[0].id if self.tax.classes else 1
        self.brush_size = 12
        self.selected: RegionItem | None = None
        self.hidden: set[int] = set()
        self.show_overlays = True
        self.show_rejected = False
        self.opacity = 0.45
        self.display = None
        self.pending_box: QMessageBox | None = None
        self._closed = False
        self._refresh_due = False
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
        self.tool_select() if self.readonly else self.tool_polygon()
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
        self.alert = QLabel()
        self.alert.setWordWrap(True)
        self.alert.setStyleSheet("background:#c23b3b;color:white;padding:6px;font-weight:bold")
        dismiss = QPushButton("×")
        dismiss.setFixedWidth(28)
        self.alert_bar = QWidget()
        self.alert_bar.setStyleSheet("background:#c23b3b")
        row = QHBoxLayout(self.alert_bar)
        row.setContentsMargins(0, 0, 4, 0)
        row.addWidget(self.alert, 1)
        row.addWidget(dismiss)
        dismiss.clicked.connect(self.alert_bar.hide)
        self.alert_bar.hide()
        center = QWidget()
        lay = QVBoxLayout(center)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.alert_bar)
        lay.addWidget(self.canvas)
        self.setCentralWidget(center)
        self.images = ImageListPanel(self.tax, self.project.image_root)
        self.images.activated.connect(self._activated)
        self.palette = Palette(self.tax)
        self.palette.chosen.connect(self._class_chosen)
        self.regions = RegionList(self.tax)
        self.regions.selected.connect(self.select_region)
        self.regions.hide_toggled.connect(self._hide)
        self.regions.accept.connect(self.accept_selected)
        self.regions.delete.connect(self.delete_selected)
        self.regions.reclass.connect(self._reclass)
        self.panel = ImagePanel(self.tax)
        self.panel.status_set.connect(lambda v: self._set_field("status", v))
        self.panel.tags_set.connect(lambda v: self._set_field("tags", v))
        self.panel.comment_set.connect(lambda v: self._set_field("comment", v))
        self.panel.manifest_set.connect(lambda v: self._set_field("manifest", v))
        focus_back = _FocusBack(self.canvas)
        self.panel.comment.installEventFilter(focus_back)
        self.panel.manifest.installEventFilter(focus_back)
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
        self.canvas.zoom_changed.connect(lambda z: self.zoom_label.setText(f"zoom {z * 100:.3g}%"))
        self.canvas.window_dragged.connect(self._wl_drag)
        if self.readonly:
            for n in actions.EDITING:
                self.acts[n].setEnabled(False)
            self.panel.set_readonly(True)
            self.regions.set_readonly(True)
            self.palette.setEnabled(False)
        self._update_undo_actions()

    def _remember(self, folder) -> None:
        st = settings()
        recent = [str(Path(folder).resolve())] + [p for p in (st.value("recent", []) or []) if p != str(Path(folder).resolve())]
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
        """Apply an undoable edit to the image in view. On failure the store is unchanged, the error is
        shown and the view is reloaded from the store: the screen never shows an unsaved edit."""
        if self.readonly or self.image is None:
            return False
        try:
            self.history.push(cmd)
        except Exception as e:  # noqa: BLE001 - every failure is shown, none is swallowed silently
            self._edit_failed(cmd.text, e)
            return False
        self.alert_bar.hide()
        self._update_undo_actions()
        return True

    def _edit_failed(self, what: str, e: Exception) -> None:
        if isinstance(e, XwbError):
            reason = str(e)
            log.warning("not saved (%s): %s", what, reason)
        elif isinstance(e, sqlite3.Error):
            reason = f"the project store refused the change ({e})"
            log.error("not saved (%s)", what, exc_info=e)
        else:
            reason = f"{type(e).__name__}: {e} (details in the log)"
            log.error("not saved (%s)", what, exc_info=e)
        self.alert.setText(f"Not saved — {what}: {reason}. The view shows what the project holds.")
        self.alert_bar.show()
        self.message(f"not saved: {what}")
        self._reload_current()
        self._update_undo_actions()

    def _reload_current(self) -> None:
        """Show the current image exactly as the store holds it (after a failed edit)."""
        if self.image is None or self._closed:
            return
        try:
            self.image = self.project.store.image(self.image.id)
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            return
        self._show_image_fields()
        regions = self._load_regions()
        self.images.model.set_regions(self.image.id, len(regions),
                                      {r.class_id for r in regions if r.state == "accepted"})

    def _update_undo_actions(self) -> None:
        iid = self.image.id if self.image is not None else None
        for name, can, text in (("undo", self.history.can_undo(iid), self.history.undo_text(iid)),
                                ("redo", self.history.can_redo(iid), self.history.redo_text(iid))):
            a = self.acts[name]
            a.setEnabled(can and not self.readonly)
            a.setText(f"{name.capitalize()} {text}".strip())

    # -- images ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the list and the current image's regions from the store (other writers' changes)."""
        if self._closed:
            return
        self.panel.flush()
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

    def _poll_store(self) -> None:
        """Follow other writers (a read-only window's editor, prelabel, import) without F5."""
        if self._closed:
            return
        try:
            v = self.project.store.data_version()
        except sqlite3.Error:
            return
        if v != self._data_version:
            self._data_version = v
            self._refresh_due = True
        if self._refresh_due and QGuiApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self._refresh_due = False  # (never in the middle of a drag: it waits for the next tick)
            self.refresh()

    def _activated(self, image_id: int) -> None:
        self.open_image(image_id)

    def open_image(self, image_id: int) -> None:
        if self._closed or (self.image is not None and self.image.id == image_id):
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
        self.scan = None
        self.statusBar().showMessage(f"loading {self.image.path}…")
        self.token = self.loader.load(image_id, str(self.project.image_path(self.image)))
        settings().setValue(_project_key(self.project.folder), image_id)
        self._update_undo_actions()

    def _loaded(self, token: int, scan, pyramid) -> None:
        if self._closed or token != self.token:
            return
        self.scan = scan
        d = default_display(scan.pixels, scan.meta, scan.info.bit_depth)
        if self.display is not None and self.display.mode in MODES and (scan.pixels.ndim == 3) == (self.display.mode != "high"):
            d = d.change(mode=self.display.mode, invert=self.display.invert, gamma=self.display.gamma,
                         strip=self.display.strip, enhance=self.display.enhance)
        self.display = d
        self.disp.show_display(d, preset="auto")  # a new scan opens with its automatic window
        self.canvas.set_scan(ScanItem(pyramid, d))
        self.canvas.fit()
        self._load_regions()
        self.statusBar().showMessage(f"{self.image.path}: {scan.info.width}×{scan.info.height} "
                                     f"{scan.info.bit_depth}-bit {scan.info.layout}", 4000)

    def _built(self, token: int) -> None:
        if not self._closed and token == self.token and self.canvas.scan_item is not None:
            self.canvas.scan_item.refresh()

    def _failed(self, token: int, image_id: int, msg: str) -> None:
        if self._closed:
            return
        self.images.model.set_error(image_id, msg)
        if token == self.token:
            self.statusBar().showMessage(f"cannot show this scan: {msg}")

    def _thumb(self, image_id: int, arr) -> None:
        if self._closed:
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

    def mark_done_next(self) -> None:
        """Ctrl+D: done, then the next image. Unreviewed proposals need a decision first: a scan marked
        done with pending proposals would train as a clear scan."""
        if self.image is not None and not self.readonly:
            self.panel.flush()
            pending = self.project.store.regions(self.image.id, state="proposal")
            if pending:
                choice = self._ask_pending(pending)
                if choice is None:
                    self.canvas.setFocus()
                    return
                cmds = [ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, choice),
                                      f"{choice[:-2]} proposal") for r in pending]
                if self.image.status != "done":
                    cmds.append(ImageField(self.session, self.image.id, "status", self.image.status, "done"))
                if not self.push(Batch(self.session, self.image.id, cmds,
                                       f"done ({choice} {len(pending)} proposal{'s' * (len(pending) > 1)})")):
                    return
            elif not self._set_field("status", "done"):
                return
        self.next_image()

    def _ask_pending(self, pending: list[Region]) -> str | None:
        """'accepted', 'rejected' or None (cancel)."""
        n = len(pending)
        names = ", ".join(f"{self.tax.by_id(r.class_id).name if r.class_id in self.tax.ids else r.class_id}"
                          + ("" if r.score is None else f" {r.score:.2f}") for r in pending[:6])
        box = QMessageBox(QMessageBox.Icon.Question, "Unreviewed proposals",
                          f"This scan has {n} model proposal{'s' * (n > 1)} nobody has reviewed "
                          f"({names}{', …' if n > 6 else ''}).\n"
                          "A scan marked done trains as it stands: decide on them first.", parent=self)
        acc = box.addButton("Accept all", QMessageBox.ButtonRole.AcceptRole)
        rej = box.addButton("Reject all", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.pending_box = box
        try:
            box.exec()
        finally:
            self.pending_box = None
        clicked = box.clickedButton()
        return "accepted" if clicked is acc else "rejected" if clicked is rej else None

    # -- regions ---------------------------------------------------------------------
    def class_color(self) -> tuple[int, int, int]:
        return self.tax.by_id(self.class_id).rgb

    def _color(self, class_id: int) -> tuple[int, int, int]:
        return self.tax.by_id(class_id).rgb if class_id in self.tax.ids else (255, 0, 255)

    def _load_regions(self) -> list:
        """Show the current image's regions from the store; returns them."""
        if self.image is None or self._closed:
            return []
        regions = self.project.store.regions(self.image.id, include_rejected=self.show_rejected)
        if self.canvas.scan_item is None:
            return regions
        sel = self.selected.region.id if self.selected is not None else None
        items = [RegionItem(r, self._color(r.class_id), self.opacity) for r in regions]
        for it in items:
            it.setVisible(self.show_overlays and it.region.id not in self.hidden)
        self.canvas.set_regions(items)
        self.selected = None
        self.regions.show_regions(regions, self.hidden)
        self.select(next((it for it in items if it.region.id == sel), None))
        return [r for r in regions if r.state != "rejected"]

    def _regions_changed(self, image_id: int) -> None:
        """An edit of the current image: its regions and its row of the list, not the whole table."""
        if self.image is not None and image_id == self.image.id:
            regions = self._load_regions()
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
        self._update_tool_label()

    def select_region(self, region_id: int | None) -> None:
        self.select(next((it for it in self.canvas.region_items if it.region.id == region_id), None))

    def _hide(self, region_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(region_id)
        for it in self.canvas.region_items:
            if it.region.id == region_id:
                it.setVisible(self.show_overlays and not hidden)

    def _class_chosen(self, class_id: int) -> None:
        self.class_id = class_id
        self._update_tool_label()

    def _update_tool_label(self) -> None:
        tool = self.canvas.tool if hasattr(self, "canvas") else None
        if tool is None:
            return
        text = tool.status()
        if tool.name in ("polygon", "rectangle"):
            text += f" · {self.tax.by_id(self.class_id).name}"
        self.tool_label.setText(text)

    def _reclass(self, class_id: int) -> None:
        if self.selected is None or self.readonly or self.selected.region.class_id == class_id:
            return
        r = self.selected.region
        self.push(ReplaceRegion(self.session, self.image.id, r, self.session.edited(r, class_id=class_id),
                                "change class"))

    def keyPressEvent(self, e) -> None:
        text = e.text()
        c = next((c for c in self.tax.classes if c.hotkey and c.hotkey == text), None)
        if c is not None and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.palette.choose(c.id)
            self._reclass(c.id)
            return
        super().keyPressEvent(e)

    def delete_selected(self) -> None:
        """Del: an accepted region is deleted; a proposal is rejected and kept (the model's false alarm)."""
        if self.selected is None or self.readonly:
            return
        r = self.selected.region
        if r.state == "proposal":
            if self.push(ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, "rejected"),
                                       "reject proposal")):
                self.message("proposal rejected: kept as a false alarm (View → Show rejected proposals)")
            return
        if r.state == "rejected":
            self.message("a rejected proposal is kept as the model's false-alarm record; Ctrl+Return accepts it")
            return
        self.select(None)
        self.push(DeleteRegion(self.session, self.image.id, r))

    def accept_selected(self) -> None:
        if self.selected is not None and not self.readonly and self.selected.region.state in ("proposal", "rejected"):
            r = self.selected.region
            self.push(ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, "accepted"),
                                    "accept proposal"))

    def fill_holes(self) -> None:
        if self.selected is None or self.readonly:
            return
        if self.selected.region.mask is None:
            self.message("fill holes works on masks; the selected region is a polygon")
            return
        from scipy.ndimage import binary_fill_holes

        r = self.selected.region
        filled = binary_fill_holes(r.mask)
        if (filled != r.mask).any():
            self.push(ReplaceRegion(self.session, self.image.id, r, self.session.edited(r, mask=filled),
                                    "fill holes"))

    def toggle_rejected(self) -> None:
        self.show_rejected = not self.show_rejected
        self.acts["show_rejected"].setChecked(self.show_rejected)
        self._load_regions()

    # -- image fields ----------------------------------------------------------------
    def _show_image_fields(self) -> None:
        if self.image is not None:
            self.panel.show_image(self.image, self.project.store.tag_proposals(self.image.id))

    def _set_field(self, field: str, value) -> bool:
        """Save one image field of the image in view; False when it could not be saved."""
        if self.image is None or self.readonly:
            return False
        self.panel.flush()  # a comment typed a moment ago goes first
        before = getattr(self.image, field)
        if (sorted(before) if isinstance(before, list) else before) == (sorted(value) if isinstance(value, list) else value):
            return True
        return self.push(ImageField(self.session, self.image.id, field, before, value))

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
        self.disp.show_display(d, preset="auto")
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
        self._update_tool_label()

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
        self._update_tool_label()

    def brush_bigger(self) -> None:
        self.brush_size = min(500, int(self.brush_size * 1.25) + 1)
        self._update_tool_label()

    def do_undo(self) -> None:
        self._step("undo")

    def do_redo(self) -> None:
        self._step("redo")

    def _step(self, which: str) -> None:
        """Undo or redo on the image in view; a failure leaves the history where it was."""
        if self.image is None or self.readonly:
            return
        text = getattr(self.history, f"{which}_text")(self.image.id)
        for t in self.tools.values():
            t.cancel()
        try:
            cmd = getattr(self.history, which)(self.image.id)
        except Exception as e:  # noqa: BLE001
            self._edit_failed(f"{which} {text}", e)
            return
        if cmd is None:
            self.message(f"nothing to {which} on this image")
        else:
            self.alert_bar.hide()
            self.message(f"{which}: {cmd.text}", 3000)
        self._update_undo_actions()

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
        if not self._closed:
            self.panel.flush()
            self._closed = True  # late loads, thumbnails and polls are ignored from here on
            self._poll.stop()
            self._beat.stop()
            self.loader.shutdown()
            self.session.close()
        super().closeEvent(e)
