"""Regions drawn over the scan: polygons and masks alike as translucent class colour plus an outline."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from datasets.regions import Region


def polygon_path(points: np.ndarray) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in points]))
    path.closeSubpath()
    return path


class RegionItem(QGraphicsItem):
    """One region. Scene units are scan pixels; ``region.id`` links it to the store."""

    def __init__(self, region: Region, color: tuple[int, int, int], opacity: float):
        super().__init__()
        self.region = region
        self.color = QColor(*color)
        self.opacity_ = opacity
        self.selected = False
        self._build()
        self.setZValue({"accepted": 5, "proposal": 4}.get(region.state, 3))

    def _build(self) -> None:
        r = self.region
        if r.polygon is not None:
            self.path = polygon_path(r.polygon)
            self.image = None
        else:
            m = r.mask
            rgba = np.zeros((*m.shape, 4), np.uint8)
            rgba[m] = (self.color.red(), self.color.green(), self.color.blue(), 255)
            self.image = QImage(rgba.data, m.shape[1], m.shape[0], 4 * m.shape[1], QImage.Format.Format_RGBA8888)
            self.image.ndarray = rgba
            cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            self.path = QPainterPath()
            for c in cs:
                pts = c[:, 0, :].astype(float) + [r.mask_x, r.mask_y]
                if len(pts) >= 2:
                    self.path.addPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))
                    self.path.closeSubpath()
        self._rect = self.path.boundingRect().adjusted(-2, -2, 2, 2)
        if r.mask is not None:
            self._rect = self._rect.united(QRectF(r.mask_x, r.mask_y, r.mask.shape[1], r.mask.shape[0]))

    def set_region(self, region: Region) -> None:
        self.prepareGeometryChange()
        self.region = region
        self._build()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def contains_point(self, x: float, y: float) -> bool:
        r = self.region
        if r.polygon is not None:
            return self.path.contains(QPointF(x, y))
        ix, iy = int(np.floor(x)) - r.mask_x, int(np.floor(y)) - r.mask_y
        return 0 <= iy < r.mask.shape[0] and 0 <= ix < r.mask.shape[1] and bool(r.mask[iy, ix])

    def paint(self, painter: QPainter, option, widget=None) -> None:
        proposal = self.region.state != "accepted"
        rejected = self.region.state == "rejected"  # shown only on request: grey, dotted, no fill
        alpha = 0.0 if rejected else self.opacity_ * (0.6 if proposal else 1.0)
        scale = max(painter.worldTransform().m11(), 1e-6)
        if self.image is not None:
            painter.setOpacity(alpha)
            painter.drawImage(QRectF(self.region.mask_x, self.region.mask_y, self.image.width(), self.image.height()),
                              self.image)
            painter.setOpacity(1.0)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        else:
            fill = QColor(self.color)
            fill.setAlphaF(alpha)
            painter.setBrush(QBrush(fill))
        color = QColor(255, 255, 255) if self.selected else QColor(150, 150, 150) if rejected else self.color
        pen = QPen(color, (2.5 if self.selected else 1.5) / scale)
        if proposal:
            pen.setStyle(Qt.PenStyle.DotLine if rejected else Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(self.path)
        if self.selected and self.region.polygon is not None:
            painter.setBrush(QBrush(QColor(255, 255, 255)))
            rad = 4 / scale
            for x, y in self.region.polygon:
                painter.drawEllipse(QPointF(x, y), rad, rad)
