"""Workbench responsiveness on big 16-bit scans, offscreen, at a 1920x1080 canvas.

    python benchmarks/bench_workbench.py [--sizes 2048x8192,8192x32768]
Figures: time to first frame after opening, re-render after a window/level
change and after a zoom step at five zooms from the whole scan to scan pixels
8-30 screen pixels wide (median, tiles not cached), memory held per open scan,
brush-stroke cost per mouse move and for committing the stroke.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

ZOOMS = (1.0, 2.0, 8.0, 32.0, 128.0)  # times the fitted view: whole scan, in between, about 1:1, scan pixels big


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2 ** 20


def make_scan(path: Path, h: int, w: int) -> None:
    import cv2
    import numpy as np

    from datasets.scanio import write_tiff

    rng = np.random.default_rng(0)
    coarse = (rng.random((max(2, h // 64), max(2, w // 64))) * 50000 + 5000).astype(np.float32)
    a = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.uint16)
    write_tiff(path, a)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2048x8192,8192x32768")
    ap.add_argument("--canvas", default="1920x1080", help="viewport size WxH")
    a = parse(ap, sizes="256x1024,512x2048", canvas="640x360")
    from PySide6.QtCore import QEvent, QPointF, Qt, qInstallMessageHandler
    from PySide6.QtGui import QMouseEvent

    def qt_message(kind, context, text):
        """Qt's messages to stderr, but the offscreen platform's note that it cannot resize a window frame."""
        if "propagateSizeHints" not in text:
            print(text, file=sys.stderr)
    qInstallMessageHandler(qt_message)
    from PySide6.QtWidgets import QApplication

    from datasets.project import Project
    from workbench.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="xwb-bench-"))
    p = Project.create(tmp / "big")
    (p.folder / "images").mkdir()
    files = []
    for s in a.sizes.split(","):
        h, w = map(int, s.split("x"))
        f = p.folder / "images" / f"scan_{h}x{w}.tiff"
        t = time.perf_counter()
        make_scan(f, h, w)
        print(f"wrote {f.name} ({h * w * 2 / 2 ** 20:.0f} MiB) in {time.perf_counter() - t:.1f} s", flush=True)
        files.append(f)
    p.add_scans(files)
    ids = [r.id for r in p.store.images()]
    p.close()

    win = MainWindow(tmp / "big", "bench")
    win.resize(2300, 1300)
    win.show()
    view = win.canvas
    vpw = view.viewport()
    for _ in range(6):  # let the window settle to its size
        app.processEvents()
    view.setFixedSize(*map(int, a.canvas.split("x")))
    app.processEvents()
    print(f"canvas viewport {vpw.width()}x{vpw.height()}")
    for iid, _f in zip(ids, files):
        win.image = None
        base = rss_mb()
        t0 = time.perf_counter()
        win.open_image(iid)
        while view.scan_item is None or view.scan_item.pyramid.preview is None:
            app.processEvents()
            time.sleep(0.001)
        vpw.repaint()
        first = time.perf_counter() - t0
        pyr = view.scan_item.pyramid
        while not pyr.done.is_set():
            app.processEvents()
            time.sleep(0.01)
        built = time.perf_counter() - t0
        app.processEvents()
        vpw.repaint()

        def timed(action, n=9):
            out = []
            for k in range(n):
                action(k)
                t = time.perf_counter()
                vpw.repaint()
                out.append(time.perf_counter() - t)
            return statistics.median(out) * 1000

        d0 = win.viewing.display

        def wl(k):
            win.viewing.set_display(d0.change(window=(1000.0 + 500 * k, 40000.0 + 700 * k)))  # noqa: B023 (called within this iteration)

        def zoom(k):
            view.zoom_by(1.25 if k % 2 == 0 else 0.8 ** 2)
        at_zoom = {}  # times the fitted view -> (window/level ms, zoom step ms)
        for z in ZOOMS:
            view.fit()
            view.zoom_by(z)
            vpw.repaint()
            at_zoom[z] = (timed(wl), timed(zoom))
        extra = sum(lv.nbytes for lv in pyr.levels[1:]) / 2 ** 20
        held = rss_mb() - base
        # brush: per mouse move cost (preview path + repaint), then the commit (raster + store write)
        view.fit()
        view.zoom_by(4.0)
        vpw.repaint()
        win.use_tool("brush")
        tool = view.tool
        c = view.mapToScene(vpw.rect().center())
        def mouse(kind, scene_pt):
            """A real mouse event (the tools read its buttons and modifiers), as the canvas hands them on."""
            pos = QPointF(view.mapFromScene(scene_pt))
            return QMouseEvent(kind, pos, QPointF(vpw.mapToGlobal(pos.toPoint())), Qt.MouseButton.LeftButton,
                               Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)

        tool.press(c, mouse(QEvent.Type.MouseButtonPress, c))
        moves, full = [], []
        for k in range(60):
            q = c + QPointF(k * 3.0, (k % 7) * 2.0)
            t = time.perf_counter()
            tool.move(q, mouse(QEvent.Type.MouseMove, q))
            app.processEvents()  # Qt repaints the stroke's dirty rectangle only
            moves.append(time.perf_counter() - t)
            t = time.perf_counter()
            vpw.repaint()
            full.append(time.perf_counter() - t)
        t = time.perf_counter()
        end = c + QPointF(180, 0)
        tool.release(end, mouse(QEvent.Type.MouseButtonRelease, end))
        commit = time.perf_counter() - t
        h, w = pyr.shape[:2]
        print(f"{w}x{h} 16-bit ({h * w * 2 / 2 ** 20:.0f} MiB):")
        print(f"  first frame {first * 1000:.0f} ms; full pyramid in background {built:.2f} s")
        print("  re-render after a window/level change | a zoom step, at the fitted view times " +
              ", ".join(f"{z:g}: {a:.1f} | {b:.1f} ms" for z, (a, b) in at_zoom.items()))
        print(f"  worst: window/level {max(a for a, _ in at_zoom.values()):.1f} ms, "
              f"zoom {max(b for _, b in at_zoom.values()):.1f} ms")
        print(f"  memory: pyramid levels 1+ {extra:.0f} MiB; process RSS +{held:.0f} MiB "
              f"(includes page cache of the memory-mapped level 0)")
        print(f"  brush: {statistics.median(moves) * 1000:.1f} ms per mouse move (median, max "
              f"{max(moves) * 1000:.1f}; a full-viewport repaint would be {statistics.median(full) * 1000:.1f}); "
              f"committing the stroke {commit * 1000:.0f} ms")
        view.tool = None
    win.close()
    shutil.rmtree(tmp, ignore_errors=True)  # the scans are half a gigabyte: a run leaves nothing behind


if __name__ == "__main__":
    main()
