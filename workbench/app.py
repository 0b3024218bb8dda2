"""Starting the workbench: the QApplication, a project chooser with recent projects, the main window."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from datasets.errors import XwbError


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32") \
        or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "vnc")


def choose_project(recent: list[str]) -> str | None:
    from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QListWidget, QPushButton,
                                   QVBoxLayout)

    dlg = QDialog()
    dlg.setWindowTitle("xwb — open a project")
    lst = QListWidget()
    lst.addItems([p for p in recent if (Path(p) / "project.yaml").is_file()])
    browse = QPushButton("Open folder…")
    chosen: list[str] = []

    def pick_folder():
        f = QFileDialog.getExistingDirectory(dlg, "Project folder")
        if f:
            chosen.append(f)
            dlg.accept()
    browse.clicked.connect(pick_folder)
    lst.itemDoubleClicked.connect(lambda it: (chosen.append(it.text()), dlg.accept()))
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
    bb.accepted.connect(lambda: (lst.currentItem() and chosen.append(lst.currentItem().text()), dlg.accept()))
    bb.rejected.connect(dlg.reject)
    lay = QVBoxLayout(dlg)
    lay.addWidget(QLabel("Recent projects"))
    lay.addWidget(lst)
    lay.addWidget(browse)
    lay.addWidget(bb)
    dlg.resize(520, 360)
    return chosen[0] if dlg.exec() and chosen else None


def run(project: str | None = None, annotator: str | None = None) -> int:
    if not has_display():
        raise XwbError("no display: set DISPLAY (or run under xvfb-run), or use QT_QPA_PLATFORM=offscreen")
    from PySide6.QtWidgets import QApplication

    from workbench.main_window import MainWindow, settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("xwb workbench")
    if project is None:
        project = choose_project(list(settings().value("recent", []) or []))
        if project is None:
            return 0
    w = MainWindow(project, annotator)
    w.resize(1600, 1000)
    w.show()
    return app.exec()
