"""Superpixel brush (S): a stroke paints every superpixel it touches, so the edge follows the scan's own
edges; superpixels of the visible area are computed in the background when the tool is chosen or the view
moves beyond them. Extends masks like the brush (Shift: a new region). See ``workbench/assist/superpixels.py``."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from workbench.assist import superpixels as SP
from workbench.assist.masks import Patch
from workbench.tools.base import class_name, register
from workbench.tools.brush import BrushTool

_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xwb-superpixels")


@register
class SuperpixelTool(BrushTool):
    name, shortcut, label = "superpixel", "S", "superpixels"
    text = "Superpixel brush: paints whole superpixels of the view (Shift: new region)"

    def __init__(self, editor):
        super().__init__(editor)
        self.map: SP.SuperpixelMap | None = None
        self._job: Future | None = None
        self._for = None  # (scan signal, box) the map or the job is for

    def _visible(self) -> tuple[int, int, int, int] | None:
        img = self.ed.image
        if img is None:
            return None
        r = self.view.visible_scene_rect()
        x0, y0 = max(0, int(r.left())), max(0, int(r.top()))
        x1, y1 = min(img.width, int(r.right()) + 1), min(img.height, int(r.bottom()) + 1)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def activate(self) -> None:
        self._start()

    def _start(self) -> None:
        sig, box = self.ed.scan_signal(), self._visible()
        if sig is None or box is None or self.ed.readonly:
            return
        if self._for is not None and self._for[0] is sig and self.map is not None and self.map.covers(box):
            return
        if self._job is not None and self._for == (sig, box):
            return
        self.map, self._for = None, (sig, box)
        self._job = _worker.submit(SP.compute, sig, box)

    def ready(self) -> bool:
        if self._job is not None and self._job.done():
            self.map, self._job = self._job.result(), None
        return self.map is not None and self._for is not None and self._for[0] is self.ed.scan_signal()

    def status(self) -> str:
        state = "superpixels ready" if self.ready() else "computing superpixels of this view…"
        return f"superpixel brush · {class_name(self.ed)} · {state} (Shift: new region)"

    def press(self, p, e) -> None:
        self._start()
        super().press(p, e)

    def shape(self, rect, stroke):
        x0, y0, x1, y1 = rect
        if not self.ready() or not self.map.covers(rect):
            self._start()
            self.ed.message("superpixels of this view are still being computed: stroke again in a moment")
            return None
        got = self.map.fill(Patch(stroke, x0, y0))
        if got is None:
            return None
        return got.box, got.mask
