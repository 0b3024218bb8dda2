"""Drive the real workbench with X events (xdotool): the Models panel ranks what to label next, the image
list walks the queue, and the chosen version pre-labels the most uncertain scan; -> a screenshot.

Run under an X server (see models_screenshot.sh). The window runs in this process only so that the script
knows where a widget is on the screen (``mapToGlobal``); every key and click is a real X event from xdotool,
and the result is read from the store through a separate connection.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from datasets.project import Project
from workbench.main_window import MainWindow

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
app = QApplication(sys.argv)
w = MainWindow(folder, "alice")
w.resize(1700, 1050)
w.move(0, 0)
w.show()
m = w.models
done: list[str] = []
m.job_done.connect(lambda what, res: done.append(what))


def xdo(*args: str) -> None:
    subprocess.Popen(["xdotool", *args])


def centre_of(widget) -> tuple[str, str]:
    g = widget.mapToGlobal(widget.rect().center())
    return str(g.x()), str(g.y())


def click_widget(widget) -> None:
    xdo("mousemove", *centre_of(widget), "click", "1")


def click_first_row() -> None:
    v = w.images.view
    r = v.visualRect(w.images.proxy.index(0, 1))
    g = v.viewport().mapToGlobal(r.center())
    xdo("mousemove", str(g.x()), str(g.y()), "click", "1")


steps = [lambda: xdo("windowfocus", str(int(w.winId()))),
         lambda: xdo("key", "ctrl+m"),                       # View → Models panel
         "wait for versions",
         lambda: click_widget(m.rank_btn),                    # What to label next
         "wait for a job",
         click_first_row,                                     # the most uncertain scan
         lambda: click_widget(m.prelabel_scan),               # pre-label it at the version's operating points
         "wait for a job",
         lambda: xdo("mousemove", "5", "5"),
         lambda: subprocess.run(["import", "-window", "root", "-crop", "1700x1050+0+0", str(out)]),
         lambda: remember_scan(),
         lambda: xdo("mousemove", *centre_of(m.accept_scan), "click", "1", "key", "d"),  # accept, walk on at once
         app.quit]
accepted_on: list[int] = []


def remember_scan() -> None:
    accepted_on.append(w.image.id)
    print("ranked scan", w.image.id, "order", w.images.order()[:3], flush=True)


def run(i: int = 0, jobs: int = 0) -> None:
    if i >= len(steps):
        return
    s = steps[i]
    if s == "wait for versions":
        if m.table.rowCount() == 0:
            QTimer.singleShot(300, lambda: run(i, jobs))
            return
        print("versions:", m.table.rowCount(), "chosen", m.chosen().uri, flush=True)
    elif s == "wait for a job":
        if len(done) <= jobs:
            QTimer.singleShot(300, lambda: run(i, jobs))
            return
        print("job:", done[-1], m.status.text(), flush=True)
        jobs = len(done)
    else:
        s()
    QTimer.singleShot(1500, lambda: run(i + 1, jobs))


QTimer.singleShot(3000, run)
app.exec()
with Project.open(folder, readonly=True) as p:
    n = sum(1 for rec in p.store.images() for r in p.store.regions(rec.id, state="proposal"))
    acc = [r for r in p.store.regions(accepted_on[0]) if r.state == "accepted"] if accepted_on else []
print(f"proposals in the store: {n}; accepted on the ranked scan (Accept >= 0.90, then D at once): "
      f"{len(acc)} {[round(r.score, 2) for r in acc]}; window ended on scan {w.image.id}")
