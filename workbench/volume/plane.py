"""One view of a volume: a slice (or a projection) scaled to fit with its physical aspect, a crosshair, and
mouse and wheel events in the slice's own (row, column) voxel coordinates."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CROSS = {"z": QColor(255, 80, 80), "y": QColor(80, 200, 255), "x": QColor(255, 220, 60)}  # one colour per axis


class PlaneView(QWidget):
    """``axis``: what the view slices (z axial, y coronal, x sagittal), or projects along when ``projection``."""

    pressed = Signal(str, float, float, object, object)  # axis, row, col, button, modifiers
    dragged = Signal(str, float, float, object)           # axis, row, col, buttons
    released = Signal(str, float, float, object)          # axis, row, col, button
    double_clicked = Signal(str, float, float)
    wheeled = Signal(str, int)                            # axis, steps (+ away from the user)

    def __init__(self, axis: str, row_axis: str, col_axis: str, projection: bool = False, parent=None):
        super().__init__(parent)
        self.axis, self.row_axis, self.col_axis, self.projection = axis, row_axis, col_axis, projection
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._img: QImage | None = None
        self._buf: np.ndarray | None = None
        self.aspect = 1.0  # physical height/width of one voxel of a row / of a column
        self.cross: tuple[float, float] | None = None  # (row, col) of the cursor
        self.title = ""
        self.brush: float = 0.0  # brush radius in voxels (drawn at the mouse), 0: none
        self.outline: list[tuple[float, float]] = []  # a polygon being drawn, (row, col)
        self.rubber: tuple[float, float, float, float] | None = None  # a box being drawn: r0, c0, r1, c1
        self._mouse: tuple[float, float] | None = None

    def set_picture(self, rgb: np.ndarray, aspect: float = 1.0) -> None:
        """(rows, cols, 3) uint8; the buffer is kept alive as long as the QImage that views it."""
        self._buf = np.ascontiguousarray(rgb)
        h, w = self._buf.shape[:2]
        self._img = QImage(self._buf.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.aspect = aspect
        self.update()

    # -- geometry ---------------------------------------------------------------------
    def target(self) -> QRectF:
        """Where the picture is drawn: fit to the widget, keeping the voxels' physical aspect."""
        if self._img is None:
            return QRectF(self.rect())
        w, h = self._img.width(), self._img.height() * self.aspect
        s = min(self.width() / max(w, 1), (self.height() - 16) / max(h, 1))
        tw, th = w * s, h * s
        return QRectF((self.width() - tw) / 2, 16 + (self.height() - 16 - th) / 2, tw, th)

    def to_voxel(self, p: QPointF) -> tuple[float, float]:
        """(row, col) in voxels of a widget point (may lie outside the picture)."""
        t = self.target()
        if self._img is None or t.width() <= 0:
            return 0.0, 0.0
        col = (p.x() - t.x()) / t.width() * self._img.width()
        row = (p.y() - t.y()) / t.height() * self._img.height()
        return row, col

    def to_widget(self, row: float, col: float) -> QPointF:
        t = self.target()
        if self._img is None:
            return QPointF(0, 0)
        return QPointF(t.x() + col / self._img.width() * t.width(), t.y() + row / self._img.height() * t.height())

    def voxel_px(self) -> float:
        """Widget pixels per voxel along a row."""
        t = self.target()
        return t.width() / self._img.width() if self._img is not None and self._img.width() else 1.0

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        if self._img is not None:
            p.drawImage(self.target(), self._img)
        p.setPen(QColor(230, 230, 230))
        p.drawText(6, 13, self.title)
        if self.cross is not None and self._img is not None:
            t = self.target()
            c = self.to_widget(self.cross[0] + 0.5, self.cross[1] + 0.5)
            p.setPen(QPen(CROSS[self.row_axis], 1))
            p.drawLine(QPointF(t.left(), c.y()), QPointF(t.right(), c.y()))
            p.setPen(QPen(CROSS[self.col_axis], 1))
            p.drawLine(QPointF(c.x(), t.top()), QPointF(c.x(), t.bottom()))
        if self.outline:
            p.setPen(QPen(QColor(255, 255, 0), 1.5))
            pts = [self.to_widget(r, c) for r, c in self.outline]
            for a, b in zip(pts, pts[1:]):
                p.drawLine(a, b)
            for q in pts:
                p.drawEllipse(q, 2.5, 2.5)
        if self.rubber is not None:
            r0, c0, r1, c1 = self.rubber
            a, b = self.to_widget(r0, c0), self.to_widget(r1, c1)
            p.setPen(QPen(QColor(255, 255, 0), 1.5, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(a, b).normalized())
        if self.brush and self._mouse is not None and not self.projection:
            c = self.to_widget(*self._mouse)
            rad = self.brush * self.voxel_px()
            p.setPen(QPen(QColor(255, 255, 255, 200), 1))
            p.drawEllipse(c, rad, rad * self.aspect)  # the disk is round in voxels: rows are aspect times as tall
        p.end()

    # -- input ------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        r, c = self.to_voxel(e.position())
        self.pressed.emit(self.axis, r, c, e.button(), e.modifiers())

    def mouseMoveEvent(self, e) -> None:
        r, c = self.to_voxel(e.position())
        self._mouse = (r, c)
        if e.buttons() != Qt.MouseButton.NoButton:
            self.dragged.emit(self.axis, r, c, e.buttons())
        if self.brush:
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        r, c = self.to_voxel(e.position())
        self.released.emit(self.axis, r, c, e.button())

    def mouseDoubleClickEvent(self, e) -> None:
        r, c = self.to_voxel(e.position())
        self.double_clicked.emit(self.axis, r, c)

    def wheelEvent(self, e) -> None:
        d = e.angleDelta().y()
        if d:
            notches = int(d / 120) or (1 if d > 0 else -1)  # a touchpad's small deltas: one slice each
            steps = notches * (10 if e.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
            self.wheeled.emit(self.axis, steps)
        e.accept()

    def leaveEvent(self, e) -> None:
        self._mouse = None
        self.update()
