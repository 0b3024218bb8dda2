"""Screenshot of the workbench on a synthetic cargo scan (run under Xvfb):

    xvfb-run -s "-screen 0 1920x1200x24" .venv/bin/python docs/scripts/workbench_screenshot.py [PROJECT]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from datasets.synth.build import synth_project
    from workbench.main_window import MainWindow

    proj = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/xwb-shot-cargo")
    if not (proj / "project.yaml").exists():
        synth_project(proj, "cargo", 6, seed=11, size=(512, 2048))
    app = QApplication.instance() or QApplication([])
    w = MainWindow(proj, "annotator")
    w.resize(1800, 1000)
    w.show()
    t = time.time()
    while (w.canvas.scan_item is None or not w.canvas.scan_item.pyramid.done.is_set()) and time.time() - t < 20:
        app.processEvents()
        time.sleep(0.01)
    busiest = max(w.images.model.rows, key=lambda r: w.images.model.counts.get(r.id, 0))
    w.open_image(busiest.id)
    t = time.time()
    while w.canvas.scan_item is None and time.time() - t < 20:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    w.canvas.fit()
    if w.canvas.region_items:
        w.select(w.canvas.region_items[0])
        w.regions.show_regions([it.region for it in w.canvas.region_items], set(), w.selected.region.id)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out = REPO / "docs" / "workbench_cargo.png"
    w.grab().save(str(out))
    print(f"saved {out}")
    w.close()


if __name__ == "__main__":
    main()
