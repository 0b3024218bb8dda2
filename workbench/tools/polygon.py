"""Polygon: one click per vertex; Enter or a click on the first vertex closes it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from datasets.regions import Region
from workbench.commands import AddRegion
from workbench.tools.base import StepTool, pen, register


@register
class PolygonTool(StepTool):
    name, shortcut, text = "polygon", "P", "Polygon (Enter or first vertex closes)"

    def __init__(self, editor):
        super().__init__(editor)
        self.points: list[QPointF] = []
        self.preview: QGraphicsPathItem | None = None
        self.hover: QPointF | None = None

    def _draw(self) -> None:
        if self.preview is None:
            self.preview = QGraphicsPathItem()
            self.preview.setZValue(50)
            self.preview.setPen(pen(QColor(*self.ed.class_color()), 1.5))
            self.view.scene().addItem(self.preview)
        path = QPainterPath(self.points[0])
        for q in self.points[1:]:
            path.lineTo(q)
        if self.hover is not None:
            path.lineTo(self.hover)
        self.preview.setPath(path)

    def press(self, p, e) -> None:
        if self.ed.readonly:
            return
        if len(self.points) >= 3 and self.screen_dist(p, self.points[0]) < 8:
            self.finish()
            return
        self.points.append(QPointF(p))
        self._draw()

    def move(self, p, e) -> None:
        if self.points:
            self.hover = QPointF(p)
            self._draw()

    def busy(self) -> bool:
        return bool(self.points)

    def take_back(self) -> None:
        self.points.pop()
        if self.points:
            self._draw()
        else:
            self.cancel()

    def finish(self) -> None:
        if len(self.points) < 3:
            self.ed.message(f"a polygon needs at least 3 points ({len(self.points)} so far): "
                            "click more, or Esc to cancel")
            return
        pts = np.array([[q.x(), q.y()] for q in self.points], float)
        self.cancel()
        if len(pts) >= 3 and self.ed.image is not None:
            region = Region(self.ed.class_id, polygon=pts, author=self.ed.session.author)
            if region.area() < 0.5:
                self.ed.message("the polygon has no area (its points lie on a line): not added")
                return
            self.ed.push(AddRegion(self.ed.session, self.ed.image.id, region, "draw polygon"))

    def cancel(self) -> None:
        self.points, self.hover = [], None
        if self.preview is not None:
            self.view.scene().removeItem(self.preview)
            self.preview = None
