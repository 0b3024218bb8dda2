"""Starting the workbench: the QApplication, a project chooser with recent projects, the main window."""
from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

from datasets.errors import XwbError

log = logging.getLogger("workbench")


def log_path() -> Path:
    """Where the workbench writes its log: $XDG_STATE_HOME/xwb/workbench.log (~/.local/state by default)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "xwb" / "workbench.log"


def setup_logging() -> Path:
    """Log INFO and up to the log file (tracebacks of unexpected errors land there)."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in root.handlers):
        h = logging.FileHandler(path, encoding="utf-8")
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(h)
        root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return path


_boxes: list = []  # open error boxes (kept alive while shown)


def excepthook(kind, value, tb) -> None:
    """An error nobody caught: the traceback goes to the log, the annotator gets a message, the app goes on."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "xwb: unexpected error",
                      f"{kind.__name__}: {value}\n\nYour saved work is safe in the project store. "
                      f"The details are in {log_path()}.")
    box.setModal(False)
    box.finished.connect(lambda _=None, b=box: _boxes.remove(b) if b in _boxes else None)
    _boxes.append(box)
    box.show()


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32") \
        or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "vnc")


def choose_project(recent: list[str]) -> str | None:
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QListWidget, QPushButton, QVBoxLayout

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
    setup_logging()
    sys.excepthook = excepthook
    if project is None:
        project = choose_project(list(settings().value("recent", []) or []))
        if project is None:
            return 0
    w = MainWindow(project, annotator)
    w.resize(1600, 1000)
    w.show()
    return app.exec()
