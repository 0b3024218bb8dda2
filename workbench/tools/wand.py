"""Magic wand (G, "grow"): click grows the area of similar attenuation; drag sideways while holding to change the
tolerance live; Shift adds to the selected mask, Alt takes away from it. See ``workbench/assist/wand.py``."""
from __future__ import annotations

import time

from PySide6.QtCore import QPointF, Qt

from workbench.assist import wand as W
from workbench.tools.base import Tool, class_name, register
from workbench.tools.masks import Preview, commit, patch_path

DRAG_PX = 30  # screen pixels of drag per notch of tolerance


@register
class WandTool(Tool):
    name, shortcut, text = "wand", "G", "Magic wand: grows similar material (drag: tolerance; Shift: add; Alt: take away)"

    def __init__(self, editor):
        super().__init__(editor)
        self.tolerance = W.DEFAULT_TOLERANCE
        self.start: QPointF | None = None
        self.seed: tuple[float, float] | None = None
        self.patch = None
        self.mode = "new"
        self.preview: Preview | None = None
        self.last_ms = 0.0
        self._tol0 = self.tolerance

    def status(self) -> str:
        ms = f" · {self.last_ms:.0f} ms" if self.last_ms else ""
        return (f"wand · {class_name(self.ed)} · tolerance {self.tolerance:.2f} (drag to change; Shift add, "
                f"Alt take away){ms}")

    def press(self, p, e) -> None:
        sig = self.ed.scan_signal()
        if self.ed.readonly or self.ed.image is None or sig is None:
            return
        mods = e.modifiers()
        self.mode = "subtract" if mods & Qt.KeyboardModifier.AltModifier else \
            "add" if mods & Qt.KeyboardModifier.ShiftModifier else "new"
        self.start, self.seed, self._tol0 = QPointF(e.position()), (p.x(), p.y()), self.tolerance
        rgb = (255, 255, 255) if self.mode == "subtract" else self.ed.class_color()
        self.preview = Preview(self.view, rgb)
        self._grow(sig)

    def _grow(self, sig) -> None:
        t = time.perf_counter()
        self.patch = W.wand(sig, *self.seed, self.tolerance)
        self.last_ms = (time.perf_counter() - t) * 1000
        if self.preview is not None and self.patch is not None:
            self.preview.show(patch_path(self.patch))
        self.ed.message(self.status(), 3000)

    def move(self, p, e) -> None:
        if self.start is None:
            return
        tol = W.step(self._tol0, (e.position().x() - self.start.x()) / DRAG_PX)
        if abs(tol - self.tolerance) > 1e-4:
            self.tolerance = tol
            self._grow(self.ed.scan_signal())

    def release(self, p, e) -> None:
        if self.start is None:
            return
        patch, mode = self.patch, self.mode
        self.cancel()
        if patch is None:
            self.ed.message("the wand found nothing here (outside the scan)")
            return
        commit(self.ed, patch, mode, "assisted:wand", {"new": "wand", "add": "wand: add",
                                                      "subtract": "wand: take away"}[mode])

    def cancel(self) -> None:
        if self.preview is not None:
            self.preview.remove()
        self.preview, self.start, self.seed, self.patch = None, None, None, None
