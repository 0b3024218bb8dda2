"""Live wire (L): click anchors; between them the outline follows the edges (intelligent scissors).
Enter, a double click or a click on the first anchor closes it into a polygon region; Backspace removes the
last anchor; Esc cancels. See ``workbench/assist/livewire.py``."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from datasets.regions import Region
from workbench.assist.livewire import LiveWire
from workbench.commands import AddRegion
from workbench.tools.base import StepTool, class_name, pen, register


@register
class LiveWireTool(StepTool):
    name, shortcut, text, label = "livewire", "L", "Live wire: anchors, the outline follows edges (Enter closes)", "live wire"

    def __init__(self, editor):
        super().__init__(editor)
        self.wire: LiveWire | None = None
        self.item: QGraphicsPathItem | None = None
        self.tail = np.zeros((0, 2), np.int32)

    def status(self) -> str:
        n = len(self.wire.anchors) if self.wire else 0
        return f"live wire · {class_name(self.ed)} · {n} anchors (Enter closes, Backspace removes one)"

    def _draw(self) -> None:
        if self.item is None:
            self.item = QGraphicsPathItem()
            self.item.setZValue(50)
            self.item.setPen(pen(QColor(*self.ed.class_color()), 1.5))
            self.view.scene().addItem(self.item)
        pts = np.concatenate([self.wire.outline(), self.tail]) if len(self.tail) else self.wire.outline()
        path = QPainterPath(QPointF(*(pts[0] + 0.5)))
        for x, y in pts[1:]:
            path.lineTo(QPointF(x + 0.5, y + 0.5))
        for x, y in self.wire.anchors:
            path.addEllipse(QPointF(x + 0.5, y + 0.5), 3 / self.view.zoom, 3 / self.view.zoom)
        self.item.setPath(path)

    def press(self, p, e) -> None:
        sig = self.ed.scan_signal()
        if self.ed.readonly or self.ed.image is None or sig is None:
            return
        if self.wire is None:
            self.wire = LiveWire(sig)
        elif len(self.wire.anchors) >= 3 and self.screen_dist(p, QPointF(*self.wire.anchors[0])) < 8:
            self.finish()
            return
        self.wire.add_anchor(p.x(), p.y())
        self.tail = np.zeros((0, 2), np.int32)
        self._draw()
        self.ed.message(self.status(), 3000)

    def move(self, p, e) -> None:
        if self.wire is not None and self.wire.anchors:
            self.tail = self.wire.path_to(p.x(), p.y())
            self._draw()

    def double_click(self, p, e) -> None:
        if self.wire is not None:
            self.finish()

    def busy(self) -> bool:
        return self.wire is not None

    def take_back(self) -> None:
        self.wire.undo()
        if self.wire.anchors:
            self.tail = np.zeros((0, 2), np.int32)
            self._draw()
        else:
            self.cancel()

    def finish(self) -> None:
        wire = self.wire
        self.cancel()
        if wire is None or len(wire.anchors) < 2:
            self.ed.message("a live-wire outline needs at least 2 anchors: click more, or Esc to cancel")
            return
        pts = wire.close().astype(float)
        region = Region(self.ed.class_id, polygon=pts, author=self.ed.session.author, source="assisted:livewire")
        if len(pts) < 3 or region.area() < 0.5:
            self.ed.message("the outline has no area: not added")
            return
        self.ed.push(AddRegion(self.ed.session, self.ed.image.id, region, "live wire"))

    def cancel(self) -> None:
        if self.item is not None:
            self.view.scene().removeItem(self.item)
        self.item, self.wire, self.tail = None, None, np.zeros((0, 2), np.int32)
