"""Looking at the scan: display mapping (window/level, mode, invert), overlay opacity and visibility,
zoom and the cursor read-out. Display only: nothing here touches the project (the main window holds one
``ViewControls``; it owns the display state and reads the window through ``workbench.editor.Window``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workbench.render import Display, default_display, modes_for

if TYPE_CHECKING:  # pragma: no cover
    from datasets.scan import Scan
    from workbench.editor import Window


class ViewControls:
    def __init__(self, window: Window):
        self.w = window
        self.display: Display | None = None   # the mapping on screen (None until a scan is shown)
        self.opacity = 0.45                   # of region fills
        self.show_overlays = True

    def scan_loaded(self, scan: Scan) -> Display:
        """The mapping a newly opened scan shows with: its automatic window, the mode, invert, gamma and
        enhancement of the scan before it where the new scan has that mode."""
        d = default_display(scan.pixels, scan.meta, scan.info.bit_depth)
        modes = modes_for(scan.pixels)
        self.w.disp.set_modes(modes)
        old = self.display
        if old is not None and old.mode in modes:
            d = d.change(mode=old.mode, invert=old.invert, gamma=old.gamma, strip=old.strip, enhance=old.enhance)
        self.display = d
        self.w.disp.show_display(d, preset="auto")
        return d

    def set_display(self, d: Display) -> None:
        self.display = d
        item = self.w.canvas.scan_item
        if item is not None:
            item.set_display(d)

    def _show(self, d: Display, preset: str | None = None) -> None:
        self.w.disp.show_display(d, preset=preset)
        self.set_display(d)

    def wl_drag(self, dx: float, dy: float) -> None:
        if self.display is None:
            return
        lo, hi = self.display.window
        width, level = hi - lo, (hi + lo) / 2
        k = self.display.max_value / 2000.0
        width = max(2.0, width + dx * k)
        level = level - dy * k
        self._show(self.display.change(window=(level - width / 2, level + width / 2)))

    def auto_window(self) -> None:
        scan = self.w.scan
        if scan is None or self.display is None:
            return
        from datasets.display import auto_window

        low = scan.low if self.display.mode == "low" else None
        self._show(self.display.change(window=auto_window(low if low is not None else scan.high)), preset="auto")

    def toggle_invert(self) -> None:
        if self.display is not None:
            self._show(self.display.change(invert=not self.display.invert))

    def next_mode(self) -> None:
        if self.w.volumes.active and self.w.volumes.view is not None:  # a CT volume: grey or material colour
            self.w.volumes.view.toggle_material()
            return
        if self.display is None or self.w.scan is None:
            return
        modes = modes_for(self.w.scan.pixels)
        self._show(self.display.change(mode=modes[(modes.index(self.display.mode) + 1) % len(modes)]
                                       if self.display.mode in modes else modes[0]))

    def set_opacity(self, v: float) -> None:
        self.opacity = v
        for it in self.w.canvas.region_items:
            it.opacity_ = v
            it.update()

    def toggle_overlays(self) -> None:
        self.show_overlays = not self.show_overlays
        if self.w.volumes.view is not None:
            self.w.volumes.view.show_overlays = self.show_overlays
            self.w.volumes.view.redraw()
        for it in self.w.canvas.region_items:
            it.setVisible(self.show_overlays and it.region.id not in self.w.hidden)

    def cursor(self, x: float, y: float) -> None:
        self.w.pos_label.setText(f"x {x:.0f}  y {y:.0f}")
        scan = self.w.scan
        if scan is None:
            return
        ix, iy = int(np.floor(x)), int(np.floor(y))
        px = scan.channels_last()
        h, w = px.shape[:2]
        if 0 <= ix < w and 0 <= iy < h:
            v = px[iy, ix]
            names = ["H", "L", "C"] if len(v) > 1 else ["v"]
            self.w.value_label.setText("  ".join(f"{names[min(i, len(names) - 1)]} {int(c)}" for i, c in enumerate(v)))
        else:
            self.w.value_label.setText("")

    def fit(self) -> None:
        self.w.canvas.fit()

    def one_to_one(self) -> None:
        self.w.canvas.one_to_one()

    def zoom_in(self) -> None:
        self.w.canvas.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.w.canvas.zoom_by(0.8)
