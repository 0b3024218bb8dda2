"""Workbench fixtures: real projects on disk, the real main window driven through qtbot."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from datasets.project import Project
from datasets.scanio import write_tiff


@pytest.fixture
def known_project(tmp_path):
    """Three 16-bit single-energy scans with known values: left half 10000, right half 50000."""
    p = Project.create(tmp_path / "known")
    (p.folder / "images").mkdir()
    files = []
    for i in range(3):
        a = np.full((200, 300), 10000, np.uint16)
        a[:, 150:] = 50000
        a[:20, :20] = 1000 * (i + 1)  # each scan differs
        f = p.folder / "images" / f"scan_{i}.tiff"
        write_tiff(f, a)
        files.append(f)
    p.add_scans(files)
    p.close()
    return tmp_path / "known"


def open_window(qtbot, folder, size=(1000, 700), timeout: int = 10_000):
    """The real main window on ``folder`` as annotator "tester", shown, its first scan loaded."""
    from workbench.main_window import MainWindow

    w = MainWindow(folder, "tester")
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=timeout)
    qtbot.waitUntil(lambda: w.canvas.scan_item.pyramid.done.is_set(), timeout=timeout)
    return w


@pytest.fixture
def window(qtbot, known_project):
    w = open_window(qtbot, known_project)
    yield w
    w.close()


def vp(w, x: float, y: float):
    """Viewport position of scan pixel (x, y)."""
    return w.canvas.mapFromScene(QPointF(x, y))


def click(w, x, y, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    QTest.mouseClick(w.canvas.viewport(), button, mods, vp(w, x, y))


def drag(w, points, button=Qt.MouseButton.LeftButton):
    v = w.canvas.viewport()
    QTest.mousePress(v, button, Qt.KeyboardModifier.NoModifier, vp(w, *points[0]))
    for p in points[1:]:
        QTest.mouseMove(v, vp(w, *p))
    QTest.mouseRelease(v, button, Qt.KeyboardModifier.NoModifier, vp(w, *points[-1]))
