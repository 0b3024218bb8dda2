"""Select: pick, move and reshape regions (vertices of polygons)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from workbench.commands import ReplaceRegion
from workbench.tools.base import Tool, register


@register
class SelectTool(Tool):
    """Click selects; drag moves a region or a polygon vertex; Shift+click deletes a vertex;
    double-click on a polygon edge inserts one; Delete removes the selected region."""

    name, shortcut, text, editing = "select", "V", "Select / move / edit vertices", False
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, editor):
        super().__init__(editor)
        self.drag = None  # ("move", start, before) | ("vertex", index, before)

    def _vertex_at(self, item, p) -> int | None:
        if item is None or item.region.polygon is None:
            return None
        for i, (x, y) in enumerate(item.region.polygon):
            if self.screen_dist(QPointF(x, y), p) < 7:
                return i
        return None

    def press(self, p, e) -> None:
        sel = self.ed.selected
        v = self._vertex_at(sel, p)
        if v is not None and not self.ed.readonly:
            if e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                poly = sel.region.polygon
                if len(poly) > 3:
                    self.ed.push(ReplaceRegion(self.ed.session, self.ed.image.id, sel.region,
                                               self.ed.session.edited(sel.region, polygon=np.delete(poly, v, axis=0)),
                                               "delete vertex"))
                else:
                    self.ed.message("a polygon keeps at least 3 vertices: delete the region instead (Del)")
                return
            self.drag = ("vertex", v, sel.region)
            return
        item = self.view.region_at(p)
        self.ed.select(item)
        if item is not None and not self.ed.readonly:
            self.drag = ("move", QPointF(p), item.region)

    def move(self, p, e) -> None:
        if self.drag is None or self.ed.selected is None:
            return
        kind, a, before = self.drag
        item = self.ed.selected
        if kind == "vertex":
            poly = before.polygon.copy()
            poly[a] = [p.x(), p.y()]
            item.set_region(self.ed.session.edited(before, polygon=poly))
        else:
            d = p - a
            item.setPos(d)

    def release(self, p, e) -> None:
        if self.drag is None or self.ed.selected is None:
            self.drag = None
            return
        kind, a, before = self.drag
        item = self.ed.selected
        self.drag = None
        if kind == "vertex":
            after = item.region
            if not np.array_equal(after.polygon, before.polygon):
                self.ed.push(ReplaceRegion(self.ed.session, self.ed.image.id, before, after, "move vertex"))
            return
        d = p - a
        item.setPos(0, 0)
        dx, dy = d.x(), d.y()
        if abs(dx) * self.view.zoom < 2 and abs(dy) * self.view.zoom < 2:
            return
        if before.polygon is not None:
            after = self.ed.session.edited(before, polygon=before.polygon + [dx, dy])
        else:
            after = self.ed.session.edited(before, mask_x=before.mask_x + int(round(dx)),
                                           mask_y=before.mask_y + int(round(dy)))
        self.ed.push(ReplaceRegion(self.ed.session, self.ed.image.id, before, after, "move region"))

    def double_click(self, p, e) -> None:
        sel = self.ed.selected
        if sel is None or sel.region.polygon is None or self.ed.readonly:
            return
        poly = sel.region.polygon
        best, at = None, None
        for i in range(len(poly)):
            a, b = poly[i], poly[(i + 1) % len(poly)]
            d = _seg_dist(np.array([p.x(), p.y()]), a, b) * self.view.zoom
            if d < 6 and (best is None or d < best):
                best, at = d, i + 1
        if at is not None:
            new = np.insert(poly, at, [p.x(), p.y()], axis=0)
            self.ed.push(ReplaceRegion(self.ed.session, self.ed.image.id, sel.region,
                                       self.ed.session.edited(sel.region, polygon=new), "insert vertex"))

    def key(self, e) -> bool:
        if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.ed.selected is not None \
                and not self.ed.readonly:
            self.ed.delete_selected()
            return True
        return False


def _seg_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-9), 0, 1)
    return float(np.linalg.norm(p - (a + t * ab)))
