"""Looking at the scan: display mapping (window/level, mode, invert), overlay opacity and visibility,
zoom and the cursor read-out. Display only: nothing here touches the project (the main window mixes it in)."""
from __future__ import annotations

import numpy as np

from workbench.render import modes_for


class ViewMixin:
    """Needs the window's canvas, display panel (``disp``), ``display``, ``scan`` and status labels."""

    def _display_changed(self, d) -> None:
        self.display = d
        if self.canvas.scan_item is not None:
            self.canvas.scan_item.set_display(d)

    def _wl_drag(self, dx: float, dy: float) -> None:
        if self.display is None:
            return
        lo, hi = self.display.window
        width, level = hi - lo, (hi + lo) / 2
        k = self.display.max_value / 2000.0
        width = max(2.0, width + dx * k)
        level = level - dy * k
        d = self.display.change(window=(level - width / 2, level + width / 2))
        self.disp.show_display(d)
        self._display_changed(d)

    def auto_window(self) -> None:
        if self.scan is None:
            return
        from datasets.display import auto_window

        px = self.scan.pixels
        d = self.display.change(window=auto_window(px[..., 1] if px.ndim == 3 and self.display.mode == "low" else
                                                   (px[..., 0] if px.ndim == 3 else px)))
        self.disp.show_display(d, preset="auto")
        self._display_changed(d)

    def toggle_invert(self) -> None:
        if self.display is not None:
            d = self.display.change(invert=not self.display.invert)
            self.disp.show_display(d)
            self._display_changed(d)

    def next_mode(self) -> None:
        if self.display is None or self.scan is None:
            return
        modes = modes_for(self.scan.pixels)
        d = self.display.change(mode=modes[(modes.index(self.display.mode) + 1) % len(modes)]
                                if self.display.mode in modes else modes[0])
        self.disp.show_display(d)
        self._display_changed(d)

    def _opacity(self, v: float) -> None:
        self.opacity = v
        for it in self.canvas.region_items:
            it.opacity_ = v
            it.update()

    def toggle_overlays(self) -> None:
        self.show_overlays = not self.show_overlays
        for it in self.canvas.region_items:
            it.setVisible(self.show_overlays and it.region.id not in self.hidden)

    def _cursor(self, x: float, y: float) -> None:
        self.pos_label.setText(f"x {x:.0f}  y {y:.0f}")
        if self.scan is None:
            return
        ix, iy = int(np.floor(x)), int(np.floor(y))
        h, w = self.scan.pixels.shape[:2]
        if 0 <= ix < w and 0 <= iy < h:
            v = self.scan.pixels[iy, ix]
            names = ["H", "L", "C"]
            self.value_label.setText("  ".join(f"{names[i] if np.ndim(v) else 'v'} {int(c)}"
                                               for i, c in enumerate(np.atleast_1d(v))))
        else:
            self.value_label.setText("")

    def fit(self) -> None:
        self.canvas.fit()

    def one_to_one(self) -> None:
        self.canvas.one_to_one()

    def zoom_in(self) -> None:
        self.canvas.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.canvas.zoom_by(0.8)
