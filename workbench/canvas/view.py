"""The canvas: a QGraphicsView over scan tiles and region overlays.

Wheel zooms at the cursor; middle drag or Space + drag pans; right drag sets
window (horizontal) and level (vertical) as in medical and screening viewers;
the left button belongs to the current tool.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from workbench.canvas.overlays import RegionItem
from workbench.canvas.scan_item import ScanItem

ZOOM_STEP = 1.25
MAX_ZOOM = 64.0


class CanvasView(QGraphicsView):
    cursor_moved = Signal(float, float)      # scan coordinates
    window_dragged = Signal(float, float)    # dx, dy in screen px (right drag)
    zoom_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.scan_item: ScanItem | None = None
        self.region_items: list[RegionItem] = []
        self.tool = None
        self._pan = None
        self._wl = None
        self._wl_start = None  # where a right press began, until it becomes a drag
        self.space = False

    # -- content ---------------------------------------------------------------------
    def set_scan(self, item: ScanItem | None) -> None:
        sc = self.scene()
        for it in list(sc.items()):
            sc.removeItem(it)
        self.region_items = []
        self.scan_item = item
        if item is not None:
            sc.addItem(item)
            r = item.boundingRect()
            sc.setSceneRect(r.adjusted(-r.width(), -r.height(), r.width(), r.height()))

    def set_regions(self, items: list[RegionItem]) -> None:
        for it in self.region_items:
            self.scene().removeItem(it)
        self.region_items = items
        for it in items:
            self.scene().addItem(it)

    def region_at(self, p: QPointF) -> RegionItem | None:
        hits = [it for it in self.region_items if it.isVisible() and it.contains_point(p.x(), p.y())]
        return max(hits, key=lambda it: (it.zValue(), -it.region.area()), default=None)

    # -- zoom ------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit_zoom(self) -> float:
        """The zoom at which the whole scan fits the view."""
        if self.scan_item is None:
            return 1.0
        r = self.scan_item.boundingRect()
        vp = self.viewport().rect()
        return min(vp.width() / max(r.width(), 1), vp.height() / max(r.height(), 1)) * 0.98

    def zoom_limits(self) -> tuple[float, float]:
        """Zooming out stops when the scan is a quarter of the fitted size (never a dot); in at 64x."""
        return min(self.fit_zoom() / 4, 1.0), MAX_ZOOM

    def zoom_by(self, factor: float, anchor=None) -> None:
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        lo, hi = self.zoom_limits()
        new = min(max(self.zoom * factor, min(lo, self.zoom)), hi)
        factor = new / self.zoom
        self.scale(factor, factor)
        after = self.mapToScene(anchor)
        d = after - before
        self.translate(d.x(), d.y())
        self.zoom_changed.emit(self.zoom)

    def fit(self) -> None:
        if self.scan_item is None:
            return
        r = self.scan_item.boundingRect()
        s = self.fit_zoom()
        self.resetTransform()
        self.scale(s, s)
        self.centerOn(r.center())
        self.zoom_changed.emit(self.zoom)

    def one_to_one(self) -> None:
        c = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(c)
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, e) -> None:
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, e.position().toPoint())
        e.accept()

    # -- mouse -----------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        b = e.button()
        if b == Qt.MouseButton.MiddleButton or (b == Qt.MouseButton.LeftButton and self.space):
            self._pan = e.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if b == Qt.MouseButton.RightButton:
            self._wl = self._wl_start = e.position()
            return
        if b == Qt.MouseButton.LeftButton and self.tool is not None:
            self.tool.press(self.mapToScene(e.position().toPoint()), e)

    def mouseMoveEvent(self, e) -> None:
        p = self.mapToScene(e.position().toPoint())
        self.cursor_moved.emit(p.x(), p.y())
        if self._pan is not None:
            d = (e.position() - self._pan) / self.zoom
            self._pan = e.position()
            self.translate(d.x(), d.y())
            return
        if self._wl is not None:
            if self._wl_start is not None:  # a right click may wobble a pixel: a drag starts beyond 3 px
                s = e.position() - self._wl_start
                if abs(s.x()) + abs(s.y()) <= 3:
                    return
                self._wl_start = None
            d = e.position() - self._wl
            self._wl = e.position()
            self.window_dragged.emit(d.x(), d.y())
            return
        if self.tool is not None:
            self.tool.move(p, e)

    def mouseReleaseEvent(self, e) -> None:
        if self._pan is not None and e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan = None
            self.viewport().unsetCursor()
            return
        if e.button() == Qt.MouseButton.RightButton:
            clicked = self._wl_start is not None
            self._wl = self._wl_start = None
            if clicked and self.tool is not None:
                self.tool.right_click(self.mapToScene(e.position().toPoint()), e)
            return
        if e.button() == Qt.MouseButton.LeftButton and self.tool is not None:
            self.tool.release(self.mapToScene(e.position().toPoint()), e)

    def mouseDoubleClickEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton and self.tool is not None:
            self.tool.double_click(self.mapToScene(e.position().toPoint()), e)

    def keyPressEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.space = True
            return
        if self.tool is not None and self.tool.key(e):
            return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.space = False
            return
        super().keyReleaseEvent(e)

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()
