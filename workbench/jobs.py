"""Background work of the workbench (pre-labelling, ranking, listing versions) off the GUI thread.

A ``Job`` runs one function in a worker thread and reports through Qt signals, which reach the GUI thread
queued: ``progress(done, total, line)``, then ``finished(result)`` or ``failed(message)``. The function gets
``progress`` and ``cancelled`` callables, so a cancel is seen between two scans and never leaves one half
written. One job at a time per ``Job`` object: a second ``start`` while one runs is refused.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from datasets.errors import XwbError

log = logging.getLogger(__name__)

Work = Callable[[Callable[[int, int, str], None], Callable[[], bool]], Any]


class Job(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._busy = False
        self.what = ""

    @property
    def running(self) -> bool:
        """True from ``start`` until just before ``finished`` or ``failed`` is emitted (so their slots see a
        job that is over, though its thread may still be returning)."""
        return self._busy

    def start(self, what: str, work: Work) -> bool:
        """Run ``work(progress, cancelled)`` in the background; False if a job is still running."""
        if self.running:
            return False
        self.what = what
        self._busy = True
        self._cancel = threading.Event()
        cancel = self._cancel
        self._thread = threading.Thread(target=self._run, args=(work, cancel), name=f"xwb-job-{what}", daemon=True)
        self._thread.start()
        return True

    def _run(self, work: Work, cancel: threading.Event) -> None:
        try:
            result = work(lambda d, t, line: self.progress.emit(d, t, line), cancel.is_set)
        except XwbError as e:
            self._busy = False
            self.failed.emit(str(e).splitlines()[0])
        except Exception as e:  # noqa: BLE001 - shown in the panel, with the details in the log
            log.error("%s failed", self.what, exc_info=e)
            self._busy = False
            self.failed.emit(f"{type(e).__name__}: {e}".splitlines()[0])
        else:
            self._busy = False
            self.finished.emit(result)

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """For closing: let the worker see the cancel and end."""
        if self._thread is not None:
            self._thread.join(timeout)
