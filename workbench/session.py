"""The open project as the GUI sees it: every edit goes to the store at once, with the annotator's name.

Regions keep their id for life: the store never hands a deleted id to another
region (AUTOINCREMENT), so undoing a delete puts the region back under its own
id, and commands can refer to regions by id alone.

The session writes exactly what it is given; choosing the author of an edit is
the caller's business (``edited``), so that undo can restore a region's
provenance byte for byte.
"""
from __future__ import annotations

import contextlib
import getpass
import socket
import time
from collections.abc import Iterator

import numpy as np
from PySide6.QtCore import QObject, Signal

from datasets.errors import StoreReadOnlyError, XwbError
from datasets.project import Project
from datasets.regions import Region, tight_mask
from datasets.stores import Store

# region attributes besides geometry: what a mask stroke records before and after
META = ("id", "class_id", "state", "source", "author", "score", "created_at", "decided_by", "decided_at")


class Session(QObject):
    regions_changed = Signal(int)   # image id
    image_changed = Signal(int)     # image id (status, tags, comment, manifest)

    def __init__(self, project: Project, author: str | None = None, readonly: bool = False):
        super().__init__()
        self.project = project
        self._author = ""
        self.author = author or getpass.getuser()
        self.readonly = readonly
        self.editor_id: int | None = None
        self.other_editor: str = ""
        self.readonly_reason: str = ""   # why this session cannot write (shown in the window's banner)
        self._pending: list[tuple[Signal, int]] | None = None

    @property
    def author(self) -> str:
        return self._author

    @author.setter
    def author(self, name: str) -> None:
        """The annotator: the author of edits, and who the project's history says made them."""
        self._author = name
        self.project.store.set_actor(name, "workbench")

    @classmethod
    def open(cls, folder, author: str | None = None) -> Session:
        """Open for editing, or read-only when another live window edits the project (or the folder is
        read-only: a project on a DVD, a share mounted read-only, files of another user)."""
        try:
            p = Project.open(folder)
        except StoreReadOnlyError as e:
            if "read-only here" not in str(e):
                raise
            s = cls(Project.open(folder, readonly=True), author, readonly=True)
            s.readonly_reason = f"Read-only: {str(e).split('read-only here (', 1)[-1].split(')')[0]}. " \
                                "Copy the project somewhere writable to edit it."
            return s
        sid = p.store.claim_editor(author or getpass.getuser())
        if sid is None:
            seat = p.store.editor()
            p.close()
            s = cls(Project.open(folder, readonly=True), author, readonly=True)
            s.other_editor = f"{seat.user or 'someone'} on {seat.host} (pid {seat.pid})" if seat else "another window"
            s.readonly_reason = (f"Read-only: this project is being edited in {s.other_editor}. Editing is off here; "
                                 "this view follows its saved changes by itself.")
            return s
        s = cls(p, author)
        s.editor_id = sid
        return s

    @property
    def store(self) -> Store:
        return self.project.store

    def heartbeat(self) -> None:
        if self.editor_id is not None:
            try:
                self.store.heartbeat(self.editor_id)
            except XwbError:
                pass

    def close(self) -> None:
        if self.editor_id is not None:
            try:
                self.store.release_editor(self.editor_id)
            except XwbError:
                pass
        self.project.close()

    # -- writes --------------------------------------------------------------------------
    def _check(self) -> None:
        if self.readonly:
            raise XwbError(f"{self.project.folder}: read-only here (being edited in {self.other_editor})")

    def _emit(self, sig: Signal, image_id: int) -> None:
        if self._pending is not None:
            if (sig, image_id) not in self._pending:
                self._pending.append((sig, image_id))
        else:
            sig.emit(image_id)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Several writes as one transaction: all land or none does; views hear of them after the commit."""
        self._check()
        if self._pending is not None:  # nested
            yield
            return
        self._pending = []
        try:
            with self.store.transaction():
                yield
        finally:
            pending, self._pending = self._pending, None
        for sig, iid in pending:
            sig.emit(iid)

    def edited(self, region: Region, **changes) -> Region:
        """A region after an edit by this annotator (the author of an edit is whoever made it)."""
        return region.copy(author=self.author, **changes)

    def decided(self, region: Region, state: str) -> Region:
        """A proposal accepted or rejected by this annotator: the proposal's own author and source stay."""
        return region.copy(state=state, decided_by=self.author, decided_at=time.time())

    def add(self, image_id: int, region: Region) -> int:
        """Insert a region; one that has an id (undo of a delete, redo of an add) comes back under it."""
        self._check()
        r = region.copy()
        new = self.store.restore_region(image_id, r) if r.id is not None else self.store.add_region(image_id, r)
        self._emit(self.regions_changed, image_id)
        return new

    def delete(self, image_id: int, region_id: int) -> None:
        self._check()
        self.store.delete_region(region_id)
        self._emit(self.regions_changed, image_id)

    def write(self, image_id: int, region: Region) -> None:
        """Store the region exactly as given (geometry, class, state, provenance)."""
        self._check()
        self.store.update_region(region.copy())
        self._emit(self.regions_changed, image_id)

    def region(self, region_id: int) -> Region:
        return self.store.region(region_id)

    def patch_mask(self, image_id: int, rect, patch: np.ndarray, meta: dict, size: tuple[int, int]) -> int | None:
        """Paste ``patch`` (bool, image coordinates ``rect`` = x0, y0, x1, y1) into the mask region
        ``meta["id"]`` and give it the attributes in ``meta``.

        The region is created when it does not exist (under ``meta["id"]`` when that is set, so redo and
        undo bring back the same region) and deleted when it ends up empty. Returns its id (None when deleted).
        """
        self._check()
        x0, y0, x1, y1 = rect
        rid = meta.get("id")
        current = self._find(rid)
        if current is not None:
            m, mx, my = current.crop_mask(*size)
            bx0, by0 = min(mx, x0), min(my, y0)
            bx1, by1 = max(mx + m.shape[1], x1), max(my + m.shape[0], y1)
            full = np.zeros((by1 - by0, bx1 - bx0), bool)
            full[my - by0:my - by0 + m.shape[0], mx - bx0:mx - bx0 + m.shape[1]] = m
        else:
            bx0, by0 = x0, y0
            full = np.zeros((y1 - y0, x1 - x0), bool)
        full[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = patch
        if not full.any():
            if current is not None:
                self.delete(image_id, rid)
            return None
        m, mx, my = tight_mask(full, bx0, by0)
        region = Region(meta["class_id"], mask=m, mask_x=mx, mask_y=my,
                        **{k: meta[k] for k in META if k not in ("class_id",) and k in meta})
        if current is not None:
            self.write(image_id, region)
            return rid
        return self.add(image_id, region)

    def _find(self, region_id: int | None) -> Region | None:
        if region_id is None:
            return None
        try:
            return self.store.region(region_id)
        except XwbError:
            return None

    def set_image(self, image_id: int, **fields) -> None:
        self._check()
        self.store.update_image(image_id, **fields)
        self._emit(self.image_changed, image_id)


def meta_of(region: Region) -> dict:
    return {k: getattr(region, k) for k in META}


def whoami() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"
