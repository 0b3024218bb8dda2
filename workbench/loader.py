"""Scan loading, pyramid building and thumbnails off the GUI thread (QThreadPool workers)."""
from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from datasets.display import auto_window, gray8
from datasets.errors import XwbError
from datasets.scanio import read_scan
from workbench.render import Pyramid


class LoadSignals(QObject):
    loaded = Signal(int, object, object)  # token, Scan, Pyramid (preview ready)
    built = Signal(int)                   # token: every pyramid level ready
    failed = Signal(int, int, str)        # token, image id, message
    thumb = Signal(int, object)           # image id, (h, w) uint8 array


class _Load(QRunnable):
    def __init__(self, sig: LoadSignals, token: int, image_id: int, path: str, cancel: threading.Event,
                 axes: str | None = None):
        super().__init__()
        self.sig, self.token, self.image_id, self.path, self.cancel = sig, token, image_id, path, cancel
        self.axes = axes

    def run(self) -> None:
        try:
            scan = read_scan(self.path, axes=self.axes)
            pyr = Pyramid(scan.plane())
            pyr.make_preview()
        except XwbError as e:
            self.sig.failed.emit(self.token, self.image_id, str(e))
            return
        except Exception as e:  # a damaged file must not take the app down
            self.sig.failed.emit(self.token, self.image_id, f"{self.path}: {type(e).__name__}: {e}")
            return
        self.sig.loaded.emit(self.token, scan, pyr)
        pyr.build(self.cancel)
        if not self.cancel.is_set():
            self.sig.built.emit(self.token)


class _Thumbs(QRunnable):
    def __init__(self, sig: LoadSignals, items: list[tuple[int, str, str | None]], cancel: threading.Event,
                 size: int = 48):
        super().__init__()
        self.sig, self.items, self.cancel, self.size = sig, items, cancel, size

    def run(self) -> None:
        for iid, path, axes in self.items:
            if self.cancel.is_set():
                return
            try:
                scan = read_scan(path, axes=axes)
                scan.plane()
            except Exception:
                continue
            ch = scan.high
            step = max(1, int(np.ceil(max(ch.shape) / self.size)))
            small = np.ascontiguousarray(ch[::step, ::step])
            self.sig.thumb.emit(iid, gray8(small, auto_window(small)) if small.dtype != np.uint8 else small)


class Loader:
    """Hands out tokens so a late result for an image the user already left is ignored."""

    def __init__(self):
        self.sig = LoadSignals()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(2)
        self.token = 0
        self.cancel = threading.Event()
        self.thumb_cancel = threading.Event()

    def load(self, image_id: int, path: str, axes: str | None = None) -> int:
        self.cancel.set()
        self.cancel = threading.Event()
        self.token += 1
        self.pool.start(_Load(self.sig, self.token, image_id, path, self.cancel, axes))
        return self.token

    def thumbnails(self, items: list[tuple[int, str, str | None]]) -> None:
        self.thumb_cancel.set()
        self.thumb_cancel = threading.Event()
        self.pool.start(_Thumbs(self.sig, items, self.thumb_cancel))

    def shutdown(self) -> None:
        self.cancel.set()
        self.thumb_cancel.set()
        self.pool.waitForDone(5000)
