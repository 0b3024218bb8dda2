"""The ``sqlite`` store backend: every annotation of a project in one SQLite file.

The default backend, for one desktop. It implements ``datasets.stores.base.Store``;
its schema and migrations are in ``sqlite_schema.py``. sqlite3's exceptions stay in
here: callers see ``StoreError`` and its subclasses.

The file itself (connection, transactions, migrations, errors) is ``sqlite_db.py``.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from datasets.errors import XwbError
from datasets.regions import Region
from datasets.stores.base import SPLITS, STATUSES, EditorSeat, ImageRecord
from datasets.stores.sql_history import HistoryQueries
from datasets.stores.sqlite_db import Database, guard_methods
from datasets.stores.sqlite_schema import REGION_GEOMETRY, image_cols, region_from_row, region_row, shape_cols

NAME = "sqlite"
FILE_NAME = "labels.sqlite"

def open(folder: Path, settings: dict[str, Any], *, readonly: bool = False, timeout: float = 10.0,
         create: bool = False) -> SQLiteStore:
    """The store of the project in ``folder``: its ``labels.sqlite`` (no settings: the file is the store)."""
    if settings:
        raise XwbError(f"{folder / 'project.yaml'}: store: the sqlite backend takes no settings, "
                       f"got {', '.join(sorted(settings))}")
    return SQLiteStore(folder / FILE_NAME, readonly=readonly, timeout=timeout, create=create)


guard_methods(HistoryQueries)


@guard_methods
class SQLiteStore(Database, HistoryQueries):
    """One project's SQLite file (the ``Store`` protocol). Not shared between threads: open one per thread."""

    # -- images -------------------------------------------------------------------------
    def add_image(self, rec: ImageRecord) -> int:
        return self.add_images([rec])[0]

    def add_images(self, recs: Sequence[ImageRecord]) -> list[int]:
        now = time.time()
        ids = []
        with self._tx() as c:
            for r in recs:
                cur = c.execute(
                    "INSERT INTO images (path, width, height, channels, bit_depth, layout, sha256, status, "
                    "comment, split, added_at, updated_at, axes, depth) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (r.path, r.width, r.height, r.channels, r.bit_depth, r.layout, r.sha256, r.status,
                     r.comment, r.split, r.added_at or now, r.updated_at or now, r.axes, r.depth))
                r.id = int(cur.lastrowid or 0)
                ids.append(r.id)
                self._write_sets(c, r.id, r.tags, r.manifest)
                self._record(c, "image.create", r.id, None, None, {  # what was just written, not read back
                    "path": r.path, "status": r.status, "comment": r.comment, "split": r.split,
                    "tags": sorted(set(r.tags or [])), "manifest": sorted(set(r.manifest or []))})
        return ids

    def _write_sets(self, c, image_id: int, tags: Iterable[str] | None, manifest: Iterable[str] | None):
        if tags is not None:
            c.execute("DELETE FROM image_tags WHERE image_id=?", (image_id,))
            c.executemany("INSERT INTO image_tags VALUES (?,?)", [(image_id, t) for t in sorted(set(tags))])
        if manifest is not None:
            c.execute("DELETE FROM manifest_items WHERE image_id=?", (image_id,))
            c.executemany("INSERT INTO manifest_items VALUES (?,?)", [(image_id, m) for m in sorted(set(manifest))])

    def _image_from_row(self, row, tags=None, manifest=None) -> ImageRecord:
        (iid, path, w, h, ch, bits, layout, sha, status, comment, split, added, updated, axes, depth) = row
        return ImageRecord(iid, path, w, h, ch, bits, layout, sha, status, comment, split,
                           tags=tags if tags is not None else [], manifest=manifest if manifest is not None else [],
                           added_at=added, updated_at=updated, axes=axes, depth=int(depth))

    def images(self, status: str | None = None, split: str | None = None,
               with_sets: bool = True) -> list[ImageRecord]:
        """Image records in id order, optionally filtered by status and split."""
        q, args = f"SELECT {image_cols(self._version)} FROM images", []
        conds: list[str] = []
        for col, value in (("status", status), ("split", split)):
            if value:
                conds.append(f"{col}=?")
                args.append(value)
        if conds:
            q += " WHERE " + " AND ".join(conds)
        rows = self.conn.execute(q + " ORDER BY id", args).fetchall()
        tags: dict[int, list[str]] = {}
        man: dict[int, list[str]] = {}
        if with_sets:
            for iid, t in self.conn.execute("SELECT image_id, tag FROM image_tags ORDER BY image_id, tag"):
                tags.setdefault(iid, []).append(t)
            for iid, t in self.conn.execute("SELECT image_id, item FROM manifest_items ORDER BY image_id, item"):
                man.setdefault(iid, []).append(t)
        return [self._image_from_row(r, tags.get(r[0], []), man.get(r[0], [])) for r in rows]

    def image(self, image_id: int) -> ImageRecord:
        row = self.conn.execute(f"SELECT {image_cols(self._version)} FROM images WHERE id=?", (image_id,)).fetchone()
        if row is None:
            raise XwbError(f"image {image_id} is not in the project")
        tags = [t for (t,) in self.conn.execute("SELECT tag FROM image_tags WHERE image_id=? ORDER BY tag", (image_id,))]
        man = [t for (t,) in self.conn.execute("SELECT item FROM manifest_items WHERE image_id=? ORDER BY item", (image_id,))]
        return self._image_from_row(row, tags, man)

    def image_id_by_path(self, path: str) -> int | None:
        row = self.conn.execute("SELECT id FROM images WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    def image_statuses(self) -> list[tuple[int, str, str]]:
        """(id, path, status) of every image: the image list's first paint."""
        return self.conn.execute("SELECT id, path, status FROM images ORDER BY id").fetchall()

    def update_image(self, image_id: int, *, status: str | None = None, comment: str | None = None,
                     tags: Iterable[str] | None = None, manifest: Iterable[str] | None = None) -> None:
        if status is not None and status not in STATUSES:
            raise XwbError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._tx() as c:
            before = self._image_state(c, image_id)
            sets, args = ["updated_at=?"], [time.time()]  # type: list[str], list[object]
            for col, value in (("status", status), ("comment", comment)):
                if value is not None:
                    sets.append(f"{col}=?")
                    args.append(value)
            cur = c.execute(f"UPDATE images SET {', '.join(sets)} WHERE id=?", (*args, image_id))
            if cur.rowcount == 0:
                raise XwbError(f"image {image_id} is not in the project")
            self._write_sets(c, image_id, tags, manifest)
            after = self._image_state(c, image_id)
            if after != before:
                self._record(c, "image.update", image_id, None, before, after)

    def set_splits(self, assignment: dict[int, str], *, reassign: bool = False) -> None:
        """Assign splits to images that have none. An assigned split is frozen: never moved, unless
        ``reassign`` (a repair, or a test that breaks a project on purpose)."""
        cond = "" if reassign else " AND split IS NULL"
        with self._tx() as c:
            for iid, s in assignment.items():
                if s not in SPLITS:
                    raise XwbError(f"split must be one of {SPLITS}, got {s!r}")
                old = c.execute("SELECT split FROM images WHERE id=?", (iid,)).fetchone() if reassign else (None,)
                if c.execute(f"UPDATE images SET split=? WHERE id=?{cond}", (s, iid)).rowcount and old \
                        and old[0] != s:  # (without reassign only unassigned images change: from None)
                    self._record(c, "image.update", iid, None, {"split": old[0]}, {"split": s})

    def delete_image(self, image_id: int) -> None:
        with self._tx() as c:
            for r in [region_from_row(row) for row in c.execute(
                    f"SELECT {self._cols} FROM regions WHERE image_id=? ORDER BY id", (image_id,)).fetchall()]:
                self._record_region(c, "region.delete", r, None)
            before = self._image_state(c, image_id)
            c.execute("DELETE FROM images WHERE id=?", (image_id,))
            if before is not None:
                self._record(c, "image.delete", image_id, None, before, None)

    # -- regions ------------------------------------------------------------------------
    def add_region(self, image_id: int, region: Region) -> int:
        return self.add_regions(image_id, [region])[0]

    def add_regions(self, image_id: int, regions: Sequence[Region]) -> list[int]:
        with self._tx() as c:
            return [self._insert_region(c, image_id, r) for r in regions]

    def _insert_region(self, c, image_id: int, r: Region, keep_id: bool = False) -> int:
        cols = (f"image_id, class_id, {REGION_GEOMETRY}, area, author, source, "
                "score, state, created_at, updated_at, decided_by, decided_at, shape, group_id, ignore")
        vals = (image_id, r.class_id, *region_row(r), r.area(), r.author, r.source, r.score, r.state,
                r.created_at, r.updated_at, r.decided_by, r.decided_at, *shape_cols(r))
        if keep_id:
            cols, vals = "id, " + cols, (r.id, *vals)
        cur = c.execute(f"INSERT INTO regions ({cols}) VALUES ({','.join('?' * len(vals))})", vals)
        r.id, r.image_id = cur.lastrowid, image_id
        self._record_region(c, "region.restore" if keep_id else "region.create", None, r)
        return r.id

    def restore_region(self, image_id: int, region: Region) -> int:
        """Put a deleted region back under its own id (undo of a delete). Ids are never handed to
        another region (AUTOINCREMENT), so the id is still free unless the region was never deleted."""
        if region.id is None:
            raise XwbError("region has no id to restore")
        with self._tx() as c:
            if c.execute("SELECT 1 FROM regions WHERE id=?", (region.id,)).fetchone():
                raise XwbError(f"region {region.id} already exists; nothing to restore")
            return self._insert_region(c, image_id, region, keep_id=True)

    def update_region(self, region: Region) -> None:
        """Write a region exactly as given (geometry, class, state and provenance)."""
        if region.id is None:
            raise XwbError("region has no id; add it first")
        region.updated_at = time.time()
        with self._tx() as c:
            old = c.execute(f"SELECT {self._cols} FROM regions WHERE id=?", (region.id,)).fetchone()
            cur = c.execute(
                f"UPDATE regions SET class_id=?, {', '.join(c + '=?' for c in REGION_GEOMETRY.split(', '))}, "
                "area=?, author=?, source=?, score=?, state=?, updated_at=?, decided_by=?, decided_at=?, "
                "shape=?, group_id=?, ignore=? WHERE id=?",
                (region.class_id, *region_row(region), region.area(), region.author, region.source,
                 region.score, region.state, region.updated_at, region.decided_by, region.decided_at,
                 *shape_cols(region), region.id))
            if cur.rowcount == 0 or old is None:
                raise XwbError(f"region {region.id} no longer exists (deleted elsewhere?)")
            before = region_from_row(old)
            region.image_id = before.image_id
            self._record_region(c, "region.update", before, region)

    def max_group(self, image_id: int) -> int:
        """The highest group number among an image's regions (0 when none is grouped)."""
        if self.schema_version() < 5:
            return 0
        row = self.conn.execute("SELECT MAX(group_id) FROM regions WHERE image_id=?", (image_id,)).fetchone()
        return int(row[0] or 0)

    def delete_region(self, region_id: int) -> None:
        with self._tx() as c:
            old = c.execute(f"SELECT {self._cols} FROM regions WHERE id=?", (region_id,)).fetchone()
            if old is None or c.execute("DELETE FROM regions WHERE id=?", (region_id,)).rowcount == 0:
                raise XwbError(f"region {region_id} no longer exists (deleted elsewhere?)")
            self._record_region(c, "region.delete", region_from_row(old), None)

    def replace_proposals(self, image_id: int, source: str, regions: Sequence[Region]) -> list[int]:
        """Swap the proposals of one source on one image; accepted and manual regions stay."""
        with self._tx() as c:
            for row in c.execute(f"SELECT {self._cols} FROM regions WHERE image_id=? AND source=? AND "
                                 "state='proposal'", (image_id, source)).fetchall():
                self._record_region(c, "region.delete", region_from_row(row), None)
            c.execute("DELETE FROM regions WHERE image_id=? AND source=? AND state='proposal'", (image_id, source))
            return [self._insert_region(c, image_id, r) for r in regions]

    def replace_tag_proposals(self, image_id: int, source: str, scores: dict[str, float]) -> None:
        """Swap one source's suggested tags (with scores) on one image; the image's own tags stay."""
        with self._tx() as c:
            c.execute("DELETE FROM tag_proposals WHERE image_id=? AND source=?", (image_id, source))
            c.executemany("INSERT INTO tag_proposals (image_id, tag, source, score) VALUES (?, ?, ?, ?)",
                          [(image_id, t, source, float(s)) for t, s in scores.items()])

    def tag_proposals(self, image_id: int) -> list[tuple[str, str, float]]:
        """(tag, source, score) suggested for an image, best first."""
        if self.schema_version() < 3:
            return []
        return [tuple(r) for r in self.conn.execute(
            "SELECT tag, source, score FROM tag_proposals WHERE image_id=? ORDER BY score DESC", (image_id,))]

    @staticmethod
    def _state_filter(state: str | None, include_rejected: bool) -> tuple[str, list]:
        if state:
            return " AND state=?", [state]
        return ("", []) if include_rejected else (" AND state<>'rejected'", [])

    def regions(self, image_id: int, state: str | None = None, include_rejected: bool = False) -> list[Region]:
        """An image's regions in id order: proposals and accepted ones; rejected proposals only when asked."""
        cond, args = self._state_filter(state, include_rejected)
        q = f"SELECT {self._cols} FROM regions WHERE image_id=?{cond} ORDER BY id"
        return [region_from_row(r) for r in self.conn.execute(q, [image_id, *args])]

    def region(self, region_id: int) -> Region:
        row = self.conn.execute(f"SELECT {self._cols} FROM regions WHERE id=?", (region_id,)).fetchone()
        if row is None:
            raise XwbError(f"region {region_id} is not in the project")
        return region_from_row(row)

    def iter_regions(self, state: str | None = None, include_rejected: bool = False) -> Iterator[Region]:
        cond, args = self._state_filter(state, include_rejected)
        for row in self.conn.execute(f"SELECT {self._cols} FROM regions WHERE 1=1{cond} ORDER BY image_id, id", args):
            yield region_from_row(row)

    def region_classes_by_image(self, state: str = "accepted") -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for iid, cid in self.conn.execute("SELECT DISTINCT image_id, class_id FROM regions WHERE state=?", (state,)):
            out.setdefault(iid, set()).add(cid)
        return out

    def region_counts(self) -> dict[int, int]:
        """Regions per image, rejected proposals left out (they are not labels)."""
        return dict(self.conn.execute("SELECT image_id, COUNT(*) FROM regions WHERE state<>'rejected' "
                                      "GROUP BY image_id").fetchall())

    def data_version(self) -> int:
        """Changes whenever another connection commits: cheap polling for a view that follows other writers."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # -- summaries ----------------------------------------------------------------------------
    def counts(self) -> dict:
        q = self.conn.execute
        return {
            "images": q("SELECT COUNT(*) FROM images").fetchone()[0],
            "regions": q("SELECT COUNT(*) FROM regions WHERE state<>'rejected'").fetchone()[0],
            "by_status": dict(q("SELECT status, COUNT(*) FROM images GROUP BY status").fetchall()),
            "by_split": {(k or "unassigned"): v for k, v in q("SELECT split, COUNT(*) FROM images GROUP BY split")},
            "by_state": dict(q("SELECT state, COUNT(*) FROM regions GROUP BY state").fetchall()),
            "by_class": {cid: {"regions": n, "images": m} for cid, n, m in q(
                "SELECT class_id, COUNT(*), COUNT(DISTINCT image_id) FROM regions WHERE state='accepted' "
                "GROUP BY class_id")},
            "by_tag": dict(q("SELECT tag, COUNT(*) FROM image_tags GROUP BY tag").fetchall()),
            "by_depth_layout": {f"{b}-bit {lay}{' volume' if vol else ''}": n for b, lay, vol, n in q(
                f"SELECT bit_depth, layout, {'depth > 1' if self._version >= 7 else '0'} AS vol, COUNT(*) FROM images "
                "GROUP BY bit_depth, layout, vol")},
        }

    # -- editing sessions (one editor per project) -------------------------------------------------
    def claim_editor(self, user: str = "", stale_after: float = 30.0) -> int | None:
        """Claim the editor seat; returns a session id, or None when a live editor holds it."""
        host, now = socket.gethostname(), time.time()
        with self._tx() as c:
            for sid, h, pid, hb in c.execute("SELECT id, host, pid, heartbeat FROM sessions WHERE kind='editor'").fetchall():
                alive = (now - hb) < stale_after and (h != host or _pid_alive(pid))
                if alive:
                    return None
                c.execute("DELETE FROM sessions WHERE id=?", (sid,))
            cur = c.execute("INSERT INTO sessions (kind, host, pid, user, started_at, heartbeat) VALUES "
                            "('editor', ?, ?, ?, ?, ?)", (host, os.getpid(), user, now, now))
            return cur.lastrowid

    def editor(self) -> EditorSeat | None:
        row = self.conn.execute("SELECT host, pid, user FROM sessions WHERE kind='editor' "
                                "ORDER BY started_at DESC LIMIT 1").fetchone()
        return EditorSeat(user=row[2] or "", host=row[0], pid=row[1]) if row else None

    def heartbeat(self, session_id: int) -> None:
        with self._tx() as c:
            c.execute("UPDATE sessions SET heartbeat=? WHERE id=?", (time.time(), session_id))

    def release_editor(self, session_id: int) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM sessions WHERE id=?", (session_id,))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
