"""The Qt binding must not take references it does not own.

PySide6 6.12.0 on Python 3.11 (where None is not immortal) drops one reference to None in every call of a
method that returns void: a canvas draws a few hundred tiles a frame, so after some minutes of panning None's
count reaches zero and the interpreter aborts ("Fatal Python error: none_dealloc"), or the garbage collector
crashes first. Both were seen: at the end of ``benchmarks/bench_workbench.py`` and as a segmentation fault in
the middle of ``make test``. pyproject.toml leaves that release out; this test catches the next one like it.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage, QPainter


def test_void_qt_calls_leave_none_alone(qtbot):
    dst = QImage(64, 64, QImage.Format.Format_RGB32)
    tile = QImage(16, 16, QImage.Format.Format_RGB32)
    obj = QObject()
    p = QPainter(dst)
    try:
        before = sys.getrefcount(None)
        for _ in range(500):
            p.drawImage(QRectF(0, 0, 32, 32), tile, QRectF(0, 0, 16, 16))  # what the canvas does per tile
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            obj.setObjectName("x")
        lost = before - sys.getrefcount(None)
    finally:
        p.end()
    assert lost < 50, f"{lost} references to None lost in 1,500 Qt calls: this Qt binding corrupts refcounts"
