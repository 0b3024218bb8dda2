"""The scan on the canvas: tiles from the pyramid level that matches the zoom, at the size they take on screen.

Only tiles that intersect the exposed area are drawn. From the fitted view up to 1.4x (every zoom where the
pyramid's levels are downsampled or barely magnified), a tile's raw pixels are resampled once to the device
pixels it covers (bilinear, at native depth) and cached by (level, zoom, tile, size on screen); a
window/level change then maps exactly the pixels on screen, into the tile's own buffers, and Qt copies them
without scaling. Zoomed further in, tiles are drawn from level 0 and Qt magnifies them without smoothing, so
the annotator sees the scan's pixels. Whatever the scan's size, a re-render touches only the tiles on
screen, at the level of detail on screen. The pixel work of a frame runs on two threads (OpenCV and numpy
release the GIL).
"""
from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from workbench.render import TILE, Display, Pyramid, level_for, render_argb

RESAMPLED_UP_TO = 1.42  # device pixels per level pixel below which tiles are resampled to the screen
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="xwb-tiles")  # threads start on first use


def to_qimage(argb: np.ndarray) -> QImage:
    """A QImage over a (h, w) uint32 array from ``render_argb`` (no copy)."""
    h, w = argb.shape
    img = QImage(argb.data, w, h, argb.strides[0], QImage.Format.Format_RGB32)
    img.ndarray = argb  # keep the buffer alive as long as the image
    return img


@dataclass
class ScreenTile:
    """A tile as drawn: raw pixels at native depth (a view of a level, or resampled to the screen), and
    their rendering under ``display``."""

    raw: np.ndarray                     # (h, w, C), the scan's dtype
    source: np.ndarray | None = None    # the level's pixels still to be resampled into ``raw``...
    warp: np.ndarray | None = None      # ...by this affine map from raw's pixels to source's
    argb: np.ndarray | None = None      # (h, w) uint32
    display: Display | None = None
    image: QImage | None = None
    buffers: list = field(default_factory=list)  # pooled flat buffers that raw and argb are views of

    def pixels(self, d: Display) -> None:
        """Resample (once) and render under ``d``: pure array work, safe on a worker thread."""
        if self.source is not None:
            h, w, c = self.raw.shape
            src = self.source[..., 0] if c == 1 else self.source  # cv2 reads a strided view as it is
            cv2.warpAffine(src, self.warp, (w, h), dst=self.raw.reshape(h, w) if c == 1 else self.raw,
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            self.source = None
        render_argb(self.raw, d, out=self.argb)


class TileCache:
    """LRU of tiles, with a pool of pixel buffers: an evicted tile's buffers serve the next new tile, so a
    zoom step writes into memory already mapped (touching fresh pages costs more than the lookup itself).

    Pooled buffers are flat and big enough for any tile up to ``CAP`` x ``CAP`` pixels; a tile takes a
    contiguous view of the size it needs."""

    CAP = int(np.ceil(TILE * RESAMPLED_UP_TO)) + 1

    def __init__(self, max_tiles: int = 256, pooled: int = 512):
        self.max, self.pooled = max_tiles, pooled
        self.data: OrderedDict = OrderedDict()
        self.pool: dict[tuple, list[np.ndarray]] = {}  # (dtype, length) -> free flat buffers

    def get(self, key):
        t = self.data.get(key)
        if t is not None:
            self.data.move_to_end(key)
        return t

    def put(self, key, tile: ScreenTile) -> None:
        self.data[key] = tile
        while len(self.data) > self.max:
            self.release(self.data.popitem(last=False)[1])

    def drop(self, keep) -> None:
        """Evict every tile whose key ``keep(key)`` refuses, its buffers to the pool."""
        for key in [k for k in self.data if not keep(k)]:
            self.release(self.data.pop(key))

    def release(self, tile: ScreenTile) -> None:
        for flat in tile.buffers:
            if sum(map(len, self.pool.values())) < self.pooled:
                self.pool.setdefault((flat.dtype.str, len(flat)), []).append(flat)
        tile.buffers = []

    def empty(self, tile: ScreenTile | None, shape: tuple, dtype) -> np.ndarray:
        """A C-contiguous array of ``shape`` for ``tile`` (garbage contents), from the pool when it fits."""
        dtype = np.dtype(dtype)
        if tile is None or shape[0] > self.CAP or shape[1] > self.CAP:
            return np.empty(shape, dtype)
        c = shape[2] if len(shape) == 3 else 1
        length = self.CAP * self.CAP * c
        free = self.pool.get((dtype.str, length))
        flat = free.pop() if free else np.empty(length, dtype)
        tile.buffers.append(flat)
        return flat[:shape[0] * shape[1] * c].reshape(shape)

    def clear(self) -> None:
        self.data.clear()
        self.pool.clear()


class ScanItem(QGraphicsItem):
    """Draws a Pyramid under a Display. Scene units are level-0 scan pixels."""

    def __init__(self, pyramid: Pyramid, display: Display):
        super().__init__()
        self.pyramid = pyramid
        self.display = display
        self.cache = TileCache()
        self.rendered = 0  # tiles rendered (not served from cache): benchmarks and tests read it
        self._generations: list[tuple] = []  # the last two zooms drawn resampled: (level, x scale, y scale)
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

    def _tile(self, level: int, tx: int, ty: int, arr: np.ndarray) -> ScreenTile:
        """Tile (tx, ty) of ``level`` at its own pixels (a view of the level)."""
        key = ("pixels", level, tx, ty)
        t = self.cache.get(key)
        if t is None:
            y0, x0 = ty * TILE, tx * TILE
            t = ScreenTile(arr[y0:min(y0 + TILE, arr.shape[0]), x0:min(x0 + TILE, arr.shape[1])])
            self.cache.put(key, t)
        return t

    def _screen_tile(self, gen: tuple, tx: int, ty: int, arr: np.ndarray, box: tuple, to_device: tuple) -> ScreenTile:
        """Tile (tx, ty) of the level in ``gen``, to be resampled to the device pixels ``box`` (x0, y0, x1, y1).

        Every device pixel samples the level where its centre falls (``to_device``: device = a * level + b
        per axis), from the tile and a 1-pixel margin of its neighbours: the sampling runs on across tile
        edges as if the level were resampled whole, so no seam shows."""
        ex0, ey0, ex1, ey1 = box
        (ax, bx), (ay, by) = to_device
        key = ("screen", gen, tx, ty, ex1 - ex0, ey1 - ey0, round(ex0 - bx, 4), round(ey0 - by, 4))
        t = self.cache.get(key)
        if t is None:
            y0, x0 = ty * TILE, tx * TILE
            my, mx = min(y0, 1), min(x0, 1)
            src = arr[y0 - my:min(y0 + TILE + 1, arr.shape[0]), x0 - mx:min(x0 + TILE + 1, arr.shape[1])]
            warp = np.array([[1 / ax, 0, (ex0 + 0.5 - bx) / ax - 0.5 - (x0 - mx)],
                             [0, 1 / ay, (ey0 + 0.5 - by) / ay - 0.5 - (y0 - my)]])
            t = ScreenTile(src, source=src, warp=warp)
            t.raw = self.cache.empty(t, (ey1 - ey0, ex1 - ex0, src.shape[2]), src.dtype)
            self.cache.put(key, t)
        return t

    def _render(self, tiles: list[ScreenTile]) -> None:
        """Every tile under the current display: the stale ones resampled and mapped (on two threads when
        there are several), into their own buffers."""
        d = self.display
        stale = [t for t in tiles if t.display is not d]
        for t in stale:
            if t.argb is None:
                t.argb = self.cache.empty(t, t.raw.shape[:2], np.uint32)
        def work(part: list[ScreenTile]) -> None:
            for t in part:
                t.pixels(d)
        if len(stale) >= 8:  # two halves, one per core
            half = len(stale) // 2
            later = _WORKERS.submit(work, stale[half:])
            work(stale[:half])
            later.result()
        else:
            work(stale)
        for t in stale:
            t.image, t.display = to_qimage(t.argb), d
        self.rendered += len(stale)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        m = painter.worldTransform()
        scale = m.m11()
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
        lh, lw = arr.shape[:2]
        tiles = [(tx, ty) for ty in range(max(0, y0), min(y1, (lh + TILE - 1) // TILE))
                 for tx in range(max(0, x0), min(x1, (lw + TILE - 1) // TILE))]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # antialiased tile edges show as seams
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        if scale * f * dpr < RESAMPLED_UP_TO and m.m12() == 0 and m.m21() == 0:
            self._paint_resampled(painter, level, arr, tiles, f, dpr)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # zoomed in: the scan's pixels
        drawn = [(tx, ty, self._tile(level, tx, ty, arr)) for tx, ty in tiles]
        self._render([t for _, _, t in drawn])
        for tx, ty, t in drawn:
            h, w = t.raw.shape[:2]
            painter.drawImage(QRectF(tx * TILE * f, ty * TILE * f, w * f, h * f), t.image)

    def _paint_resampled(self, painter: QPainter, level: int, arr: np.ndarray, tiles, f: float, dpr: float) -> None:
        """Tiles at their device size, drawn without a transform. Tile edges are rounded to device pixels
        the same way on both sides of an edge, so neighbours meet without a gap or an overlap."""
        m = painter.worldTransform()
        sx, sy, dx, dy = m.m11() * dpr, m.m22() * dpr, m.dx() * dpr, m.dy() * dpr
        lh, lw = arr.shape[:2]
        gen = (level, round(sx, 9), round(sy, 9))
        if gen not in self._generations:  # a new zoom: tiles of all but the last zoom go back to the pool
            self._generations = [*self._generations[-1:], gen]
            self.cache.drop(lambda k: k[0] != "screen" or k[1] in self._generations)

        def edge_x(px: int) -> int:  # level pixel column -> device pixel column
            return round(sx * px * f + dx)

        def edge_y(py: int) -> int:
            return round(sy * py * f + dy)
        placed = []
        for tx, ty in tiles:
            ex0, ex1 = edge_x(tx * TILE), edge_x(min((tx + 1) * TILE, lw))
            ey0, ey1 = edge_y(ty * TILE), edge_y(min((ty + 1) * TILE, lh))
            if ex1 > ex0 and ey1 > ey0:
                box = (ex0, ey0, ex1, ey1)
                placed.append((ex0, ey0, self._screen_tile(gen, tx, ty, arr, box, ((sx * f, dx), (sy * f, dy)))))
        self._render([t for _, _, t in placed])
        painter.save()
        painter.resetTransform()
        for ex0, ey0, t in placed:
            t.image.setDevicePixelRatio(dpr)
            painter.drawImage(QPointF(ex0 / dpr, ey0 / dpr), t.image)
        painter.restore()

    def _paint_preview(self, painter: QPainter) -> None:
        t = self.cache.get("preview")
        if t is None or t.raw is not self.pyramid.preview:
            t = ScreenTile(self.pyramid.preview)
            self.cache.put("preview", t)
        self._render([t])
        img = t.image
        s = self.pyramid.preview_step
        painter.fillRect(self._rect, QColor(Qt.GlobalColor.black))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(QRectF(0, 0, img.width() * s, img.height() * s), img)
