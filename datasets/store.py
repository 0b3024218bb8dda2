"""The project store: every annotation of a project in one SQLite file.

All SQL of the project lives here (its schema and migrations in ``schema.py``),
so that a server-backed store (PostgreSQL, for teams) is a second
implementation of this module and nothing else.

Durability and concurrency:
- WAL journal: readers never block and are never blocked by a writer.
- Every change runs in one ``BEGIN IMMEDIATE`` transaction: it takes the
  write lock up front, waits up to ``timeout`` seconds for another writer,
  and then either commits whole or leaves no trace. A process killed with
  SIGKILL loses only the transaction it had not committed.
- ``synchronous=NORMAL``: a commit survives a crash of the process (WAL is
  written before commit returns); only a power cut may drop the last commits.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from datasets.errors import ProjectBusyError, SchemaTooNewError, XwbError
from datasets.regions import Region, decode_mask, encode_mask
from datasets.safefs import disk_full, read_only_fs, why_read_only
from datasets.schema import MIGRATIONS, SCHEMA_VERSION, SPLITS, STATUSES, region_cols, split_sql
from datasets.schema import SCHEMA_V1 as _SCHEMA_V1

# The WAL is checkpointed back into the store once it is larger than this (readers that never pause
# would otherwise keep SQLite's own checkpoints from ever restarting it: 1 GB in 30 s in bench_wal.py).
WAL_LIMIT = int(float(os.environ.get("XWB_WAL_LIMIT_MB", "64")) * (1 << 20))


@dataclass
class ImageRecord:
    id: int
    path: str
    width: int
    height: int
    channels: int
    bit_depth: int
    layout: str
    sha256: str
    status: str = "new"
    comment: str = ""
    split: str | None = None
    tags: list[str] = field(default_factory=list)
    manifest: list[str] = field(default_factory=list)
    added_at: float = 0.0
    updated_at: float = 0.0


_IMG_COLS = "id, path, width, height, channels, bit_depth, layout, sha256, status, comment, split, added_at, updated_at"
def _is_busy(e: sqlite3.OperationalError) -> bool:
    m = str(e).lower()
    return "locked" in m or "busy" in m


class Store:
    """One project's SQLite file. Not shared between threads: open one per thread."""

    def __init__(self, path: str | Path, readonly: bool = False, timeout: float = 10.0,
                 create: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self.timeout = timeout
        self._commits = 0
        if not create and not self.path.is_file():
            raise XwbError(f"{self.path}: project store not found")
        if not readonly and not (os.access(self.path.parent, os.W_OK) and
                                 (create or os.access(self.path, os.W_OK))):
            raise XwbError(f"{self.path}: the project is read-only here ({why_read_only(self.path)}); "
                           "fix that, or open it read-only")
        try:
            if readonly:
                # on read-only media SQLite cannot make the WAL index (-shm) a reader needs: nobody can write
                # there either, so the file is opened as immutable
                frozen = not os.access(self.path.parent, os.W_OK) and read_only_fs(self.path)
                uri = self.path.resolve().as_uri() + ("?mode=ro&immutable=1" if frozen else "?mode=ro")
                self.conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            else:
                self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise XwbError(f"{self.path}: cannot switch the store to WAL mode (got {mode})")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self.conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
            if create:
                self._create()
            self._check_schema()
            self._cols = region_cols(self.schema_version())
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and _is_busy(e):
                raise ProjectBusyError(f"{self.path}: project is busy (another process holds the write lock)") from None
            if isinstance(e, sqlite3.OperationalError) and not readonly and disk_full(self.path):
                raise XwbError(f"{self.path}: cannot open the store for writing: the disk is full") from None
            raise XwbError(f"{self.path}: not a readable project store ({e})") from None

    # -- schema -------------------------------------------------------------------
    def _create(self) -> None:
        with self.transaction() as c:
            for stmt in split_sql(_SCHEMA_V1):
                c.execute(stmt)
            c.execute("INSERT INTO meta VALUES ('schema_version', '1')")
            c.execute("INSERT INTO meta VALUES ('created_at', ?)", (str(time.time()),))

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _check_schema(self) -> None:
        try:
            v = self.schema_version()
        except sqlite3.DatabaseError:
            raise XwbError(f"{self.path}: not an xwb project store (no schema version)") from None
        if v > SCHEMA_VERSION:
            if not self.readonly:
                raise SchemaTooNewError(
                    f"{self.path}: written by a newer xwb (schema {v}, this xwb knows up to {SCHEMA_VERSION}); "
                    "upgrade xwb, or open it read-only")
            return
        if v < SCHEMA_VERSION:
            if self.readonly:
                return  # an old file can be read as it is; it is migrated when opened for writing
            with self.transaction() as c:
                v = int(c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
                while v < SCHEMA_VERSION:
                    for stmt in split_sql(MIGRATIONS[v]):
                        c.execute(stmt)
                    v += 1
                c.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(v),))

    def close(self) -> None:
        self.conn.close()

    # -- transactions ----------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write. Raises ProjectBusyError when the lock does not come in time; a failure of
        the store itself (disk full, read-only file) is one XwbError naming the cause, never a traceback."""
        if self.readonly:
            raise XwbError(f"{self.path}: project is open read-only")
        if self.conn.in_transaction:  # nested: join the outer transaction
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if _is_busy(e):
                raise ProjectBusyError(
                    f"{self.path}: project is busy: another process kept it locked for over {self.timeout:g} s; "
                    "try again") from None
            raise self._store_error(e) from None
        try:
            yield self.conn
        except BaseException as e:
            self._rollback()
            if isinstance(e, sqlite3.OperationalError):
                raise self._store_error(e) from None
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            self._rollback()
            if _is_busy(e):
                raise ProjectBusyError(f"{self.path}: project is busy; the change was not saved") from None
            raise self._store_error(e) from None
        self._commits += 1
        if self._commits % 32 == 0:
            self._bound_wal()

    def _bound_wal(self) -> None:
        """Checkpoint and truncate the WAL when it outgrew WAL_LIMIT; waits at most 2 s for readers, never fails
        the edit that triggered it (the next try comes 32 commits later)."""
        try:
            if os.stat(f"{self.path}-wal").st_size <= WAL_LIMIT:
                return
        except OSError:
            return
        try:
            self.conn.execute("PRAGMA busy_timeout = 2000")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            pass
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (a full disk, I/O errors); rolling back again would
        # raise "no transaction is active" and hide the real cause
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def _store_error(self, e: sqlite3.Error) -> XwbError:
        m = str(e).lower()
        if "full" in m or ("i/o" in m and disk_full(self.path)):
            why = "the disk is full"
        elif "readonly" in m or "read-only" in m:
            why = "the store file or its folder is read-only"
        elif "disk i/o" in m:
            why = "a disk I/O error"
        else:
            why = str(e)
        return XwbError(f"{self.path}: the change was not saved: {why}")

    # -- images -------------------------------------------------------------------------
    def add_image(self, rec: ImageRecord) -> int:
        return self.add_images([rec])[0]

    def add_images(self, recs: Sequence[ImageRecord]) -> list[int]:
        now = time.time()
        ids = []
        with self.transaction() as c:
            for r in recs:
                cur = c.execute(
                    "INSERT INTO images (path, width, height, channels, bit_depth, layout, sha256, status, "
                    "comment, split, added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (r.path, r.width, r.height, r.channels, r.bit_depth, r.layout, r.sha256, r.status,
                     r.comment, r.split, r.added_at or now, r.updated_at or now))
                r.id = cur.lastrowid
                ids.append(r.id)
                self._write_sets(c, r.id, r.tags, r.manifest)
        return ids

    def _write_sets(self, c, image_id: int, tags: Iterable[str] | None, manifest: Iterable[str] | None):
        if tags is not None:
            c.execute("DELETE FROM image_tags WHERE image_id=?", (image_id,))
            c.executemany("INSERT INTO image_tags VALUES (?,?)", [(image_id, t) for t in sorted(set(tags))])
        if manifest is not None:
            c.execute("DELETE FROM manifest_items WHERE image_id=?", (image_id,))
            c.executemany("INSERT INTO manifest_items VALUES (?,?)", [(image_id, m) for m in sorted(set(manifest))])

    def _image_from_row(self, row, tags=None, manifest=None) -> ImageRecord:
        return ImageRecord(*row[:11], tags=tags if tags is not None else [],
                           manifest=manifest if manifest is not None else [],
                           added_at=row[11], updated_at=row[12])

    def images(self, status: str | None = None, split: str | None = None,
               with_sets: bool = True) -> list[ImageRecord]:
        """Image records in id order, optionally filtered by status and split."""
        q, args = f"SELECT {_IMG_COLS} FROM images", []
        conds = []
        if status:
            conds.append("status=?"), args.append(status)
        if split:
            conds.append("split=?"), args.append(split)
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
        row = self.conn.execute(f"SELECT {_IMG_COLS} FROM images WHERE id=?", (image_id,)).fetchone()
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
        with self.transaction() as c:
            sets, args = ["updated_at=?"], [time.time()]
            if status is not None:
                sets.append("status=?"), args.append(status)
            if comment is not None:
                sets.append("comment=?"), args.append(comment)
            cur = c.execute(f"UPDATE images SET {', '.join(sets)} WHERE id=?", (*args, image_id))
            if cur.rowcount == 0:
                raise XwbError(f"image {image_id} is not in the project")
            self._write_sets(c, image_id, tags, manifest)

    def set_splits(self, assignment: dict[int, str]) -> None:
        """Assign splits to images that have none. An assigned split is frozen: never moved."""
        with self.transaction() as c:
            for iid, s in assignment.items():
                if s not in SPLITS:
                    raise XwbError(f"split must be one of {SPLITS}, got {s!r}")
                c.execute("UPDATE images SET split=? WHERE id=? AND split IS NULL", (s, iid))

    def delete_image(self, image_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM images WHERE id=?", (image_id,))

    # -- regions ------------------------------------------------------------------------
    @staticmethod
    def _region_row(r: Region):
        x0, y0, x1, y1 = r.bbox()
        if r.polygon is not None:
            return ("polygon", r.polygon.astype("<f8").tobytes(), None, x0, y0, x1, y1, None, None)
        h, w = r.mask.shape
        return ("mask", None, encode_mask(r.mask), x0, y0, x1, y1, w, h)

    def add_region(self, image_id: int, region: Region) -> int:
        return self.add_regions(image_id, [region])[0]

    def add_regions(self, image_id: int, regions: Sequence[Region]) -> list[int]:
        with self.transaction() as c:
            return [self._insert_region(c, image_id, r) for r in regions]

    @staticmethod
    def _shape_cols(r: Region) -> tuple:
        return (json.dumps(r.shape, sort_keys=True) if r.shape else None, r.group, int(bool(r.ignore)))

    def _insert_region(self, c, image_id: int, r: Region, keep_id: bool = False) -> int:
        cols = ("image_id, class_id, kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, area, author, source, "
                "score, state, created_at, updated_at, decided_by, decided_at, shape, group_id, ignore")
        vals = (image_id, r.class_id, *self._region_row(r), r.area(), r.author, r.source, r.score, r.state,
                r.created_at, r.updated_at, r.decided_by, r.decided_at, *self._shape_cols(r))
        if keep_id:
            cols, vals = "id, " + cols, (r.id, *vals)
        cur = c.execute(f"INSERT INTO regions ({cols}) VALUES ({','.join('?' * len(vals))})", vals)
        r.id, r.image_id = cur.lastrowid, image_id
        return r.id

    def restore_region(self, image_id: int, region: Region) -> int:
        """Put a deleted region back under its own id (undo of a delete). Ids are never handed to
        another region (AUTOINCREMENT), so the id is still free unless the region was never deleted."""
        if region.id is None:
            raise XwbError("region has no id to restore")
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM regions WHERE id=?", (region.id,)).fetchone():
                raise XwbError(f"region {region.id} already exists; nothing to restore")
            return self._insert_region(c, image_id, region, keep_id=True)

    def update_region(self, region: Region) -> None:
        """Write a region exactly as given (geometry, class, state and provenance)."""
        if region.id is None:
            raise XwbError("region has no id; add it first")
        region.updated_at = time.time()
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE regions SET class_id=?, kind=?, polygon=?, mask=?, x0=?, y0=?, x1=?, y1=?, mask_w=?, "
                "mask_h=?, area=?, author=?, source=?, score=?, state=?, updated_at=?, decided_by=?, decided_at=?, "
                "shape=?, group_id=?, ignore=? WHERE id=?",
                (region.class_id, *self._region_row(region), region.area(), region.author, region.source,
                 region.score, region.state, region.updated_at, region.decided_by, region.decided_at,
                 *self._shape_cols(region), region.id))
            if cur.rowcount == 0:
                raise XwbError(f"region {region.id} no longer exists (deleted elsewhere?)")

    def max_group(self, image_id: int) -> int:
        """The highest group number among an image's regions (0 when none is grouped)."""
        if self.schema_version() < 5:
            return 0
        row = self.conn.execute("SELECT MAX(group_id) FROM regions WHERE image_id=?", (image_id,)).fetchone()
        return int(row[0] or 0)

    def delete_region(self, region_id: int) -> None:
        with self.transaction() as c:
            if c.execute("DELETE FROM regions WHERE id=?", (region_id,)).rowcount == 0:
                raise XwbError(f"region {region_id} no longer exists (deleted elsewhere?)")

    def replace_proposals(self, image_id: int, source: str, regions: Sequence[Region]) -> list[int]:
        """Swap the proposals of one source on one image; accepted and manual regions stay."""
        with self.transaction() as c:
            c.execute("DELETE FROM regions WHERE image_id=? AND source=? AND state='proposal'", (image_id, source))
            return [self._insert_region(c, image_id, r) for r in regions]

    def replace_tag_proposals(self, image_id: int, source: str, scores: dict[str, float]) -> None:
        """Swap one source's suggested tags (with scores) on one image; the image's own tags stay."""
        with self.transaction() as c:
            c.execute("DELETE FROM tag_proposals WHERE image_id=? AND source=?", (image_id, source))
            c.executemany("INSERT INTO tag_proposals (image_id, tag, source, score) VALUES (?, ?, ?, ?)",
                          [(image_id, t, source, float(s)) for t, s in scores.items()])

    def tag_proposals(self, image_id: int) -> list[tuple[str, str, float]]:
        """(tag, source, score) suggested for an image, best first."""
        if self.schema_version() < 3:
            return []
        return [tuple(r) for r in self.conn.execute(
            "SELECT tag, source, score FROM tag_proposals WHERE image_id=? ORDER BY score DESC", (image_id,))]

    def _region_from_row(self, row) -> Region:
        (rid, iid, cid, kind, poly, mask, x0, y0, mw, mh, author, source, score, state, ca, ua, db, da,
         shape, group, ignore) = row
        meta = dict(state=state, source=source, score=score, author=author, id=rid, image_id=iid, created_at=ca,
                    updated_at=ua, decided_by=db, decided_at=da, shape=json.loads(shape) if shape else None,
                    group=group, ignore=bool(ignore))
        if kind == "polygon":
            return Region(cid, polygon=np.frombuffer(poly, dtype="<f8").reshape(-1, 2).astype(np.float64), **meta)
        return Region(cid, mask=decode_mask(mask, mh, mw), mask_x=int(x0), mask_y=int(y0), **meta)

    @staticmethod
    def _state_filter(state: str | None, include_rejected: bool) -> tuple[str, list]:
        if state:
            return " AND state=?", [state]
        return ("", []) if include_rejected else (" AND state<>'rejected'", [])

    def regions(self, image_id: int, state: str | None = None, include_rejected: bool = False) -> list[Region]:
        """An image's regions in id order: proposals and accepted ones; rejected proposals only when asked."""
        cond, args = self._state_filter(state, include_rejected)
        q = f"SELECT {self._cols} FROM regions WHERE image_id=?{cond} ORDER BY id"
        return [self._region_from_row(r) for r in self.conn.execute(q, [image_id, *args])]

    def region(self, region_id: int) -> Region:
        row = self.conn.execute(f"SELECT {self._cols} FROM regions WHERE id=?", (region_id,)).fetchone()
        if row is None:
            raise XwbError(f"region {region_id} is not in the project")
        return self._region_from_row(row)

    def iter_regions(self, state: str | None = None, include_rejected: bool = False) -> Iterator[Region]:
        cond, args = self._state_filter(state, include_rejected)
        for row in self.conn.execute(f"SELECT {self._cols} FROM regions WHERE 1=1{cond} ORDER BY image_id, id", args):
            yield self._region_from_row(row)

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
            "by_depth_layout": {f"{b}-bit {lay}": n for b, lay, n in q(
                "SELECT bit_depth, layout, COUNT(*) FROM images GROUP BY bit_depth, layout")},
        }

    # -- editing sessions (one editor per project) -------------------------------------------------
    def claim_editor(self, user: str = "", stale_after: float = 30.0) -> int | None:
        """Claim the editor seat; returns a session id, or None when a live editor holds it."""
        host, now = socket.gethostname(), time.time()
        with self.transaction() as c:
            for sid, h, pid, hb in c.execute("SELECT id, host, pid, heartbeat FROM sessions WHERE kind='editor'").fetchall():
                alive = (now - hb) < stale_after and (h != host or _pid_alive(pid))
                if alive:
                    return None
                c.execute("DELETE FROM sessions WHERE id=?", (sid,))
            cur = c.execute("INSERT INTO sessions (kind, host, pid, user, started_at, heartbeat) VALUES "
                            "('editor', ?, ?, ?, ?, ?)", (host, os.getpid(), user, now, now))
            return cur.lastrowid

    def heartbeat(self, session_id: int) -> None:
        with self.transaction() as c:
            c.execute("UPDATE sessions SET heartbeat=? WHERE id=?", (time.time(), session_id))

    def release_editor(self, session_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE id=?", (session_id,))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
