"""Brush and eraser: round strokes of ``editor.brush_size`` scan pixels on masks."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from datasets.regions import Region
from workbench.commands import Batch, MaskStroke, stroke_meta
from workbench.tools.base import Tool, class_name, register
from workbench.tools.masks import patch_of


@register
class BrushTool(Tool):
    """Paints (or erases) a mask with a round brush of ``editor.brush_size`` scan pixels.

    The brush extends the selected mask of the current class, or else the same-class mask the stroke
    touches; Shift starts a new region. The eraser edits the selected region only, or, with nothing
    selected, only the masks of the current class: other regions are never touched.
    """

    name, shortcut, text = "brush", "B", "Brush"
    erase = False

    def __init__(self, editor):
        super().__init__(editor)
        self.points: list[tuple[float, float]] = []
        self.preview: QGraphicsPathItem | None = None
        self.path: QPainterPath | None = None
        self.new_region = False

    def status(self) -> str:
        ed = self.ed
        cls = class_name(ed)
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

    def shape(self, rect, stroke):
        """The area a stroke paints: the stroke itself (a superpixel brush widens it to whole superpixels)."""
        return rect, stroke

    def apply(self, pts) -> None:
        got = stroke_patch(pts, self.ed.brush_size, self.ed.image.width, self.ed.image.height)
        if got is None:
            return
        got = self.shape(*got)
        if got is None:
            return
        rect, stroke = got
        ed, img = self.ed, self.ed.image
        size = (img.width, img.height)
        if not self.erase:
            target = None if self.new_region else self._brush_target(rect, stroke, size)
            before = patch_of(target, rect, size) if target is not None else np.zeros_like(stroke)
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
            b = patch_of(r, rect, size)
            if (b & stroke).any():
                bm, am = stroke_meta(r, ed.session, r.class_id)
                cmds.append(MaskStroke(ed.session, img.id, rect, b, b & ~stroke, size, bm, am, "erase"))
        if not cmds:
            ed.message("nothing erased: the selected region is not under the eraser" if sel is not None else
                       f"nothing erased: no {class_name(ed)} mask under the eraser (it erases the current "
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
                n = int((patch_of(r, rect, size) & grown).sum())
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


@register
class EraserTool(BrushTool):
    """The brush, taking away: the selected region only, or the current class's masks."""

    name, shortcut, text = "eraser", "E", "Eraser"
    erase = True
