"""Canvas tools: polygon, rectangle, brush/eraser, select/move/vertex edit.

A tool turns mouse gestures into undo commands; the commands write the store.
During a gesture only light preview items change (one path per mouse move),
so a stroke costs the same on a 2-gigapixel scan as on a small one.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from datasets.regions import Region
from workbench.commands import AddRegion, Batch, MaskStroke, ReplaceRegion, stroke_meta


class Tool:
    name = "tool"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, editor):
        self.ed = editor

    @property
    def view(self):
        return self.ed.canvas

    def screen_dist(self, a: QPointF, b: QPointF) -> float:
        return math.hypot(a.x() - b.x(), a.y() - b.y()) * self.view.zoom

    def press(self, p, e): ...
    def move(self, p, e): ...
    def release(self, p, e): ...
    def double_click(self, p, e): ...

    def key(self, e) -> bool:
        return False

    def cancel(self) -> None: ...

    def status(self) -> str:
        """What the tool will act on, for the status bar."""
        return self.name


def _pen(color: QColor, width_px: float) -> QPen:
    pen = QPen(color, width_px)
    pen.setCosmetic(True)
    return pen


class PolygonTool(Tool):
    name = "polygon"

    def __init__(self, editor):
        super().__init__(editor)
        self.points: list[QPointF] = []
        self.preview: QGraphicsPathItem | None = None
        self.hover: QPointF | None = None

    def _draw(self) -> None:
        if self.preview is None:
            self.preview = QGraphicsPathItem()
            self.preview.setZValue(50)
            self.preview.setPen(_pen(QColor(*self.ed.class_color()), 1.5))
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

    def key(self, e) -> bool:
        k = e.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            if len(self.points) < 3:
                self.ed.message(f"a polygon needs at least 3 points ({len(self.points)} so far): "
                                "click more, or Esc to cancel")
            else:
                self.finish()
            return True
        if k == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        if k == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            if self.points:
                self._draw()
            else:
                self.cancel()
            return True
        return False

    def finish(self) -> None:
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


class RectTool(Tool):
    name = "rectangle"

    def __init__(self, editor):
        super().__init__(editor)
        self.start: QPointF | None = None
        self.preview: QGraphicsRectItem | None = None

    def press(self, p, e) -> None:
        if self.ed.readonly:
            return
        self.start = QPointF(p)
        self.preview = QGraphicsRectItem(QRectF(p, p))
        self.preview.setPen(_pen(QColor(*self.ed.class_color()), 1.5))
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


class BrushTool(Tool):
    """Paints (or erases) a mask with a round brush of ``editor.brush_size`` scan pixels.

    The brush extends the selected mask of the current class, or else the same-class mask the stroke
    touches; Shift starts a new region. The eraser edits the selected region only, or, with nothing
    selected, only the masks of the current class: other regions are never touched.
    """

    name = "brush"

    def __init__(self, editor, erase: bool = False):
        super().__init__(editor)
        self.erase = erase
        self.name = "eraser" if erase else "brush"
        self.points: list[tuple[float, float]] = []
        self.preview: QGraphicsPathItem | None = None
        self.path: QPainterPath | None = None
        self.new_region = False

    def status(self) -> str:
        ed = self.ed
        cls = _class_name(ed)
        sel = ed.selected_region
        if self.erase:
            if sel is not None:
                return f"eraser · selected region #{sel.id} only"
            return f"eraser · {cls} masks only · brush {ed.brush_size}px"
        if sel is not None and sel.mask is not None and sel.class_id == ed.class_id and sel.state == "accepted":
            return f"brush · {cls} · extends region #{sel.id} (Shift: new region) · {ed.brush_size}px"
        return f"brush · {cls} · {ed.brush_size}px (Shift: new region)"

    def press(self, p, e) -> None:
        if self.ed.readonly or self.ed.image is None:
            return
        self.new_region = bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.points = [(p.x(), p.y())]
        self.path = QPainterPath(p)
        self.path.lineTo(p + QPointF(0.01, 0))
        self.preview = QGraphicsPathItem()
        color = QColor(255, 255, 255, 140) if self.erase else QColor(*self.ed.class_color(), 140)
        pen = QPen(color, self.ed.brush_size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        self.preview.setPen(pen)
        self.preview.setZValue(50)
        self.preview.setPath(self.path)
        self.view.scene().addItem(self.preview)

    def move(self, p, e) -> None:
        if self.path is None:
            return
        self.points.append((p.x(), p.y()))
        self.path.lineTo(p)
        self.preview.setPath(self.path)

    def release(self, p, e) -> None:
        if self.path is None:
            return
        pts = self.points
        self.cancel()
        self.apply(pts)

    def apply(self, pts) -> None:
        got = stroke_patch(pts, self.ed.brush_size, self.ed.image.width, self.ed.image.height)
        if got is None:
            return
        rect, stroke = got
        ed, img = self.ed, self.ed.image
        size = (img.width, img.height)
        if not self.erase:
            target = None if self.new_region else self._brush_target(rect, stroke, size)
            before = _patch_of(target, rect, size) if target is not None else np.zeros_like(stroke)
            bm, am = stroke_meta(target, ed.session, ed.class_id)
            cmd = MaskStroke(ed.session, img.id, rect, before, before | stroke, size, bm, am, "brush stroke")
            if ed.push(cmd):
                ed.select_region(cmd.region_id)
            return
        sel = ed.selected_region
        if sel is not None:
            if sel.mask is None:
                ed.message("the eraser edits masks; the selected region is a polygon: move or delete its "
                           "vertices with the select tool (V)")
                return
            targets = [sel]
        else:
            targets = [r for r in ed.regions_in_view() if r.mask is not None and r.class_id == ed.class_id]
        cmds = []
        for r in targets:
            b = _patch_of(r, rect, size)
            if (b & stroke).any():
                bm, am = stroke_meta(r, ed.session, r.class_id)
                cmds.append(MaskStroke(ed.session, img.id, rect, b, b & ~stroke, size, bm, am, "erase"))
        if not cmds:
            ed.message("nothing erased: the selected region is not under the eraser" if sel is not None else
                       f"nothing erased: no {_class_name(ed)} mask under the eraser (it erases the current "
                       "class, or the selected region)")
            return
        ed.push(cmds[0] if len(cmds) == 1 else Batch(ed.session, img.id, cmds, "erase"))

    def _brush_target(self, rect, stroke, size) -> Region | None:
        """The mask this stroke extends: the selected one of the current class, else the one it touches."""
        ed = self.ed

        def fits(r: Region) -> bool:
            return r.mask is not None and r.class_id == ed.class_id and r.state == "accepted"

        sel = ed.selected_region
        if sel is not None and fits(sel):
            return sel
        grown = cv2.dilate(stroke.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        best, most = None, 0
        for r in ed.regions_in_view():
            if fits(r):
                n = int((_patch_of(r, rect, size) & grown).sum())
                if n > most:
                    best, most = r, n
        return best

    def cancel(self) -> None:
        if self.preview is not None:
            self.view.scene().removeItem(self.preview)
        self.preview, self.path, self.points = None, None, []


def stroke_patch(pts, brush_size: float, w: int, h: int) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """A round-brush stroke through ``pts`` as a bool patch over its bounding rectangle (clipped to w x h)."""
    rad = max(0.5, brush_size / 2)
    a = np.array(pts, float)
    x0, y0 = int(max(0, np.floor(a[:, 0].min() - rad - 1))), int(max(0, np.floor(a[:, 1].min() - rad - 1)))
    x1, y1 = int(min(w, np.ceil(a[:, 0].max() + rad + 2))), int(min(h, np.ceil(a[:, 1].max() + rad + 2)))
    if x1 <= x0 or y1 <= y0:
        return None
    patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
    q = np.round((a - [x0 - 0.5, y0 - 0.5]) * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    thick = max(1, int(round(2 * rad)))
    if len(q) == 1:
        cv2.circle(patch, tuple(q[0]), int(round(rad * 4)), 1, -1, cv2.LINE_8, 2)
    else:
        cv2.polylines(patch, [q.reshape(-1, 1, 2)], False, 1, thick, cv2.LINE_8, 2)
        for pt in (q[0], q[-1]):
            cv2.circle(patch, tuple(pt), int(round(rad * 4)), 1, -1, cv2.LINE_8, 2)
    return (x0, y0, x1, y1), patch.astype(bool)


def _class_name(ed) -> str:
    return ed.tax.by_id(ed.class_id).name if ed.class_id in ed.tax.ids else f"#{ed.class_id}"


def _patch_of(region: Region, rect, size) -> np.ndarray:
    """A region's mask cut to ``rect`` (image coordinates)."""
    x0, y0, x1, y1 = rect
    m, mx, my = region.crop_mask(*size)
    out = np.zeros((y1 - y0, x1 - x0), bool)
    sx0, sy0 = max(x0, mx), max(y0, my)
    sx1, sy1 = min(x1, mx + m.shape[1]), min(y1, my + m.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = m[sy0 - my:sy1 - my, sx0 - mx:sx1 - mx]
    return out


class SelectTool(Tool):
    """Click selects; drag moves a region or a polygon vertex; Shift+click deletes a vertex;
    double-click on a polygon edge inserts one; Delete removes the selected region."""

    name = "select"
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
