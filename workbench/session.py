"""The open project as the GUI sees it: every edit goes to the store at once, with the annotator's name.

Commands on the undo stack refer to regions by a *key* (the id the region had
when the command first saw it); undo/redo may re-create a region under a new
id, and ``current`` maps the key to it.
"""
from __future__ import annotations

import getpass
import socket

import numpy as np
from PySide6.QtCore import QObject, Signal

from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region, tight_mask


class Session(QObject):
    regions_changed = Signal(int)   # image id
    image_changed = Signal(int)     # image id (status, tags, comment, manifest)

    def __init__(self, project: Project, author: str | None = None, readonly: bool = False):
        super().__init__()
        self.project = project
        self.author = author or getpass.getuser()
        self.readonly = readonly
        self.ids: dict[int, int] = {}
        self.editor_id: int | None = None
        self.other_editor: str = ""

    @classmethod
    def open(cls, folder, author: str | None = None) -> "Session":
        """Open for editing, or read-only when another live window edits the project."""
        p = Project.open(folder)
        sid = p.store.claim_editor(author or getpass.getuser())
        if sid is None:
            row = p.store.conn.execute("SELECT host, pid, user FROM sessions WHERE kind='editor' "
                                       "ORDER BY started_at DESC LIMIT 1").fetchone()
            p.close()
            s = cls(Project.open(folder, readonly=True), author, readonly=True)
            s.other_editor = f"{row[2] or 'someone'} on {row[0]} (pid {row[1]})" if row else "another window"
            return s
        s = cls(p, author)
        s.editor_id = sid
        return s

    def heartbeat(self) -> None:
        if self.editor_id is not None:
            try:
                self.project.store.heartbeat(self.editor_id)
            except XwbError:
                pass

    def close(self) -> None:
        if self.editor_id is not None:
            try:
                self.project.store.release_editor(self.editor_id)
            except XwbError:
                pass
        self.project.close()

    # -- regions ---------------------------------------------------------------------
    def _check(self) -> None:
        if self.readonly:
            raise XwbError(f"{self.project.folder}: read-only here (being edited in {self.other_editor})")

    def current(self, key: int) -> int:
        return self.ids.get(key, key)

    def key_of(self, region_id: int) -> int:
        for k, v in self.ids.items():
            if v == region_id:
                return k
        return region_id

    def add(self, image_id: int, region: Region, key: int | None = None) -> int:
        self._check()
        r = region.copy(id=None, author=region.author or self.author)
        new = self.project.store.add_region(image_id, r)
        self.ids[key if key is not None else new] = new
        self.regions_changed.emit(image_id)
        return new if key is None else key

    def delete(self, image_id: int, key: int) -> None:
        self._check()
        self.project.store.delete_region(self.current(key))
        self.regions_changed.emit(image_id)

    def update(self, image_id: int, key: int, region: Region) -> None:
        self._check()
        self.project.store.update_region(region.copy(id=self.current(key), author=self.author))
        self.regions_changed.emit(image_id)

    def region(self, key: int) -> Region:
        return self.project.store.region(self.current(key))

    def patch_mask(self, image_id: int, key: int | None, class_id: int, rect, patch: np.ndarray,
                   width: int, height: int, state: str = "accepted") -> int | None:
        """Paste ``patch`` (bool, image coords ``rect`` = x0, y0, x1, y1) into a mask region.

        Creates the region when it does not exist, deletes it when it ends up
        empty; returns its key (None when deleted).
        """
        self._check()
        x0, y0, x1, y1 = rect
        exists = key is not None and self._exists(key)
        if exists:
            r = self.region(key)
            m, mx, my = r.crop_mask(width, height)
            bx0, by0 = min(mx, x0), min(my, y0)
            bx1, by1 = max(mx + m.shape[1], x1), max(my + m.shape[0], y1)
            full = np.zeros((by1 - by0, bx1 - bx0), bool)
            full[my - by0:my - by0 + m.shape[0], mx - bx0:mx - bx0 + m.shape[1]] = m
            class_id, state = r.class_id, r.state if r.source == "manual" else "accepted"
        else:
            bx0, by0 = x0, y0
            full = np.zeros((y1 - y0, x1 - x0), bool)
        full[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = patch
        if not full.any():
            if exists:
                self.delete(image_id, key)
            return None
        m, mx, my = tight_mask(full, bx0, by0)
        region = Region(class_id, mask=m, mask_x=mx, mask_y=my, state="accepted", source="manual",
                        author=self.author)
        if exists:
            self.update(image_id, key, region)
            return key
        return self.add(image_id, region, key)

    def _exists(self, key: int) -> bool:
        try:
            self.region(key)
            return True
        except XwbError:
            return False

    # -- image fields ----------------------------------------------------------------
    def set_image(self, image_id: int, **fields) -> None:
        self._check()
        self.project.store.update_image(image_id, **fields)
        self.image_changed.emit(image_id)


def whoami() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"
