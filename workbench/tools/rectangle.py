"""Rectangle: press, drag, release."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsRectItem

from datasets.regions import Region
from workbench.commands import AddRegion
from workbench.tools.base import Tool, pen, register


@register
class RectTool(Tool):
    name, shortcut, text = "rectangle", "R", "Rectangle"

    def __init__(self, editor):
        super().__init__(editor)
        self.start: QPointF | None = None
        self.preview: QGraphicsRectItem | None = None

    def press(self, p, e) -> None:
        if self.ed.readonly:
            return
        self.start = QPointF(p)
        self.preview = QGraphicsRectItem(QRectF(p, p))
        self.preview.setPen(pen(QColor(*self.ed.class_color()), 1.5))
        self.preview.setZValue(50)
        self.view.scene().addItem(self.preview)

    def move(self, p, e) -> None:
        if self.start is not None:
            self.preview.setRect(QRectF(self.start, p).normalized())

    def release(self, p, e) -> None:
        if self.start is None:
            return
        r = QRectF(self.start, p).normalized()
        self.cancel()
        if r.width() >= 2 and r.height() >= 2 and self.ed.image is not None:
            pts = np.array([[r.left(), r.top()], [r.right(), r.top()], [r.right(), r.bottom()],
                            [r.left(), r.bottom()]], float)
            self.ed.push(AddRegion(self.ed.session, self.ed.image.id,
                                   Region(self.ed.class_id, polygon=pts, author=self.ed.session.author),
                                   "draw rectangle"))

    def cancel(self) -> None:
        self.start = None
        if self.preview is not None:
            self.view.scene().removeItem(self.preview)
            self.preview = None
