"""What mask tools share: a patch as a preview path, and committing a patch as an undoable stroke."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from workbench.assist.masks import Patch
from workbench.commands import MaskStroke, stroke_meta
from workbench.tools.base import pen


def patch_path(patch: Patch) -> QPainterPath:
    """The outline of a patch (holes too) in scan coordinates, pixel edges on integers."""
    path = QPainterPath()
    m = np.pad(patch.mask.astype(np.uint8), 1)
    cs, _ = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    for c in cs:
        pts = c[:, 0, :].astype(float) + [patch.x0 - 1 + 0.5, patch.y0 - 1 + 0.5]
        path.moveTo(QPointF(*pts[0]))
        for x, y in pts[1:]:
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
    return path


class Preview:
    """One translucent path item on the canvas, replaced as the gesture goes on."""

    def __init__(self, view, rgb: tuple[int, int, int]):
        self.item = QGraphicsPathItem()
        self.item.setZValue(50)
        self.item.setPen(pen(QColor(*rgb), 1.5))
        self.item.setBrush(QBrush(QColor(*rgb, 90)))
        view.scene().addItem(self.item)
        self.view = view

    def show(self, path: QPainterPath) -> None:
        self.item.setPath(path)

    def remove(self) -> None:
        self.view.scene().removeItem(self.item)


def patch_of(region, rect, size) -> np.ndarray:
    """A region's mask cut to ``rect`` (x0, y0, x1, y1)."""
    m, mx, my = region.crop_mask(*size)
    return Patch(m.astype(bool), mx, my).cut(rect)


def commit(ed, patch: Patch, mode: str, source: str, text: str) -> bool:
    """Write ``patch`` as a new mask region (``mode`` "new"), added to the selected mask of the current class
    ("add"), or taken from the selected mask ("subtract"); one undoable step. False (with a message) when
    the mode has no target."""
    img = ed.image
    size = (img.width, img.height)
    sel = ed.selected_region
    rect = patch.box
    if mode == "new":
        bm, am = stroke_meta(None, ed.session, ed.class_id)
        am["source"] = source
        cmd = MaskStroke(ed.session, img.id, rect, np.zeros_like(patch.mask), patch.mask, size, bm, am, text)
    else:
        fits = sel is not None and sel.mask is not None and (mode == "subtract" or (
            sel.class_id == ed.class_id and sel.state == "accepted"))
        if not fits:
            ed.message("Shift adds to the selected mask of the current class; select one first (V)" if mode == "add"
                       else "Alt takes away from the selected mask; select one first (V)")
            return False
        before = patch_of(sel, rect, size)
        after = before | patch.mask if mode == "add" else before & ~patch.mask
        if np.array_equal(before, after):
            ed.message("nothing changed: the area is already in the selected mask" if mode == "add" else
                       "nothing changed: the area does not overlap the selected mask")
            return False
        bm, am = stroke_meta(sel, ed.session, sel.class_id)
        cmd = MaskStroke(ed.session, img.id, rect, before, after, size, bm, am, text)
    if ed.push(cmd):
        ed.select_region(cmd.region_id)
        return True
    return False
