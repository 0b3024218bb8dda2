"""The scan on the canvas: tiles from the pyramid level that matches the zoom, mapped at paint time.

Only tiles that intersect the exposed area are drawn; rendered tiles are kept
in an LRU cache keyed by (level, tile, display), so panning over seen areas is
free and a display change re-renders what is on screen and nothing else.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from workbench.render import TILE, Display, Pyramid, level_for, render_argb


def to_qimage(argb: np.ndarray) -> QImage:
    """A QImage over a (h, w) uint32 array from ``render_argb`` (no copy)."""
    h, w = argb.shape
    img = QImage(argb.data, w, h, argb.strides[0], QImage.Format.Format_RGB32)
    img.ndarray = argb  # keep the buffer alive as long as the image
    return img


class TileCache:
    def __init__(self, max_tiles: int = 768):
        self.max = max_tiles
        self.data: OrderedDict = OrderedDict()

    def get(self, key):
        img = self.data.get(key)
        if img is not None:
            self.data.move_to_end(key)
        return img

    def put(self, key, img) -> None:
        self.data[key] = img
        if len(self.data) > self.max:
            self.data.popitem(last=False)

    def clear(self) -> None:
        self.data.clear()


class ScanItem(QGraphicsItem):
    """Draws a Pyramid under a Display. Scene units are level-0 scan pixels."""

    def __init__(self, pyramid: Pyramid, display: Display):
        super().__init__()
        self.pyramid = pyramid
        self.display = display
        self.cache = TileCache()
        self.rendered = 0  # tiles rendered (not served from cache): benchmarks and tests read it
        h, w = pyramid.shape[:2]
        self._rect = QRectF(0, 0, w, h)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(-10)

    def boundingRect(self) -> QRectF:
        return self._rect

    def set_display(self, d: Display) -> None:
        if d != self.display:
            self.display = d
            self.update()

    def refresh(self) -> None:
        """New pyramid levels are ready: redraw (tiles of the old level stay cached)."""
        self.update()

    def _tile(self, level: int, tx: int, ty: int, arr: np.ndarray) -> tuple[QImage, QRectF]:
        """The tile's image with a 1-px margin of its neighbours (so smooth scaling leaves no seams)
        and the source rectangle of the tile proper inside it."""
        key = (level, tx, ty, self.display)
        hit = self.cache.get(key)
        if hit is None:
            y0, x0 = ty * TILE, tx * TILE
            y1, x1 = min(y0 + TILE, arr.shape[0]), min(x0 + TILE, arr.shape[1])
            my, mx = (1 if y0 > 0 else 0), (1 if x0 > 0 else 0)
            raw = arr[y0 - my:min(y1 + 1, arr.shape[0]), x0 - mx:min(x1 + 1, arr.shape[1])]
            hit = (to_qimage(render_argb(raw, self.display)), QRectF(mx, my, x1 - x0, y1 - y0))
            self.cache.put(key, hit)
            self.rendered += 1
        return hit

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scale = painter.worldTransform().m11()
        want = level_for(scale)
        level, arr = self.pyramid.best(want)
        if level < want and self.pyramid.preview is not None and not self.pyramid.done.is_set():
            # the pyramid is still being built: draw the quick preview instead of thousands of level-0 tiles
            self._paint_preview(painter)
            return
        f = float(1 << level)
        exposed = option.exposedRect.intersected(self._rect)
        x0, y0 = int(exposed.left() / f) // TILE, int(exposed.top() / f) // TILE
        x1 = int(np.ceil(exposed.right() / f / TILE))
        y1 = int(np.ceil(exposed.bottom() / f / TILE))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # antialiased tile edges show as seams
        lh, lw = arr.shape[:2]
        for ty in range(max(0, y0), min(y1, (lh + TILE - 1) // TILE)):
            for tx in range(max(0, x0), min(x1, (lw + TILE - 1) // TILE)):
                img, src = self._tile(level, tx, ty, arr)
                painter.drawImage(QRectF(tx * TILE * f, ty * TILE * f, src.width() * f, src.height() * f), img, src)

    def _paint_preview(self, painter: QPainter) -> None:
        key = ("preview", self.display)
        img = self.cache.get(key)
        if img is None:
            img = to_qimage(render_argb(self.pyramid.preview, self.display))
            self.cache.put(key, img)
            self.rendered += 1
        s = self.pyramid.preview_step
        painter.fillRect(self._rect, QColor(Qt.GlobalColor.black))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(0, 0, img.width() * s, img.height() * s), img)
