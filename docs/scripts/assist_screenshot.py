"""Drive the real workbench with X events (xdotool) to label with the magic wand and the live wire.

Run under an X server (see assist_screenshot.sh). The window runs in this process only so that the script
knows where a scan pixel is on the screen (``mapToGlobal``); every key and click is a real X event from
xdotool, and the result is read from the store through a separate connection.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtWidgets import QApplication

from datasets.project import Project
from workbench.main_window import MainWindow

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
with Project.open(folder, readonly=True) as p:  # the scan with the most objects
    rec = max(p.store.images(), key=lambda r: (len(p.store.regions(r.id)), -r.id))
    truth = p.store.regions(rec.id)
    # the synthetic labels are the truth; the window starts from an unlabelled scan
with Project.open(folder) as p:
    for r in truth:
        p.store.delete_region(r.id)
app = QApplication(sys.argv)
w = MainWindow(folder, "alice")
w.resize(1600, 1000)
w.move(0, 0)
w.show()
w.open_image(rec.id)


def screen(x: float, y: float) -> tuple[int, int]:
    v = w.canvas.mapFromScene(QPointF(x, y))
    g = w.canvas.viewport().mapToGlobal(v)
    return g.x(), g.y()


def xdo(*args: str) -> None:
    subprocess.Popen(["xdotool", *args])


def centre(r) -> tuple[int, int]:
    m, x, y = r.crop_mask(rec.width, rec.height)
    import cv2
    dt = cv2.distanceTransform(np.pad(m.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    yy, xx = np.unravel_index(int(dt.argmax()), dt.shape)
    return x + int(xx), y + int(yy)


def outline(r) -> list[tuple[int, int]]:
    import cv2
    m, x, y = r.crop_mask(rec.width, rec.height)
    cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(cs, key=len)[:, 0, :]
    poly = cv2.approxPolyDP(c.reshape(-1, 1, 2), max(m.shape) / 12, True).reshape(-1, 2)
    return [(x + int(a), y + int(b)) for a, b in poly]


# Xvfb has no window manager to give the window the keyboard: focus it as a click on its title would
steps = [lambda: xdo("windowfocus", str(int(w.winId()))), lambda: xdo("key", "Escape")]
big = sorted(truth, key=lambda r: -r.area())
a, b = big[0], big[1] if len(big) > 1 else big[0]  # (seed 4243: a firearm, then a knife)
steps.append(lambda: xdo("key", "g"))                                   # the magic wand
cx, cy = centre(a)
steps.append(lambda: xdo("mousemove", *map(str, screen(cx, cy)), "click", "1"))
steps.append(lambda: xdo("key", "2"))                                   # class 2 (knife)
steps.append(lambda: xdo("key", "l"))                                   # the live wire
for px, py in outline(b):
    steps.append(lambda px=px, py=py: xdo("mousemove", *map(str, screen(px, py)), "click", "1"))
steps.append(lambda: xdo("key", "Return"))
first = outline(b)[0]
if len(big) > 3:  # the superpixel brush: a zigzag inside the fourth object
    d = big[3]
    dm, dx, dy = d.crop_mask(rec.width, rec.height)
    ys, xs = np.nonzero(dm)
    steps.append(lambda: xdo("key", str(d.class_id % 10)))
    steps.append(lambda: xdo("key", "s"))
    steps.append("wait for the superpixels")
    zz = [(int(np.percentile(xs, 20 if k % 2 else 80)) + dx, int(np.percentile(ys, 15 + 7 * k)) + dy) for k in range(11)]

    def zigzag(zz=zz) -> None:
        stroke = ["mousemove", *map(str, screen(*zz[0])), "mousedown", "1"]
        for px, py in zz[1:]:
            stroke += ["mousemove", *map(str, screen(px, py)), "sleep", "0.05"]
        xdo(*stroke, "mouseup", "1")
    steps.append(zigzag)
    big = big[:3] + big[4:]
shot = lambda: subprocess.run(["import", "-window", "root", "-crop", "1600x1000+0+0", str(out)])  # noqa: E731
if len(big) > 2:  # click-to-segment on the third object with the project's click model, if it has one
    c = big[2]
    kx, ky = centre(c)
    steps.append(lambda: xdo("key", str(c.class_id % 10)))
    steps.append(lambda: xdo("key", "c"))
    steps.append("wait for the model")
    steps.append(lambda: xdo("mousemove", *map(str, screen(kx, ky)), "click", "1"))  # left: this is the object
    steps.append(shot)                                                            # the mask before Enter
    steps.append(lambda: xdo("key", "Return", "d"))  # accept, and on to the next scan at once
else:
    steps.append(lambda: xdo("key", "g"))
    steps.append(lambda: xdo("mousemove", *map(str, screen(cx + 3, cy + 3))))  # hover: the status bar
    steps.append(shot)
steps.append(app.quit)


def run(i: int = 0) -> None:
    print(f"step {i}: tool {w.canvas.tool.name}, focus {type(QApplication.focusWidget()).__name__}", flush=True)
    if i < len(steps):
        if steps[i] == "wait for the superpixels":
            if not w.tools["superpixel"].ready():
                QTimer.singleShot(200, lambda: run(i))
                return
        elif steps[i] == "wait for the model":
            if not w.tools["click"].ready():
                QTimer.singleShot(200, lambda: run(i))
                return
            print("click tool:", w.tools["click"].status(), flush=True)
        else:
            steps[i]()
        QTimer.singleShot(1200, lambda: run(i + 1))


QTimer.singleShot(4000, run)
app.exec()
with Project.open(folder, readonly=True) as p:
    for r in p.store.regions(rec.id):
        print(f"stored: region #{r.id} {p.taxonomy.by_id(r.class_id).name} source {r.source} area {r.area():.0f}")
print(f"truth: {', '.join(f'{p.taxonomy.by_id(r.class_id).name} {r.area():.0f}' for r in truth)}")
