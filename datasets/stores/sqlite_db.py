"""The sqlite backend's file: connecting, pragmas, schema migrations, transactions and the mapping of
sqlite3's errors to StoreError. The queries are in ``sqlite.py``.

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
import functools
import inspect
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from datasets.errors import (
    ProjectBusyError,
    SchemaTooNewError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    XwbError,
)
from datasets.safefs import disk_full, read_only_fs, why_read_only
from datasets.stores.sqlite_schema import MIGRATIONS, SCHEMA_VERSION, region_cols, split_sql
from datasets.stores.sqlite_schema import SCHEMA_V1 as _SCHEMA_V1

# The WAL is checkpointed back into the store once it is larger than this (readers that never pause
# would otherwise keep SQLite's own checkpoints from ever restarting it: 1 GB in 30 s in bench_wal.py).
WAL_LIMIT = int(float(os.environ.get("XWB_WAL_LIMIT_MB", "64")) * (1 << 20))


def _is_busy(e: sqlite3.OperationalError) -> bool:
    m = str(e).lower()
    return "locked" in m or "busy" in m


class Database:
    """One SQLite file opened for the store: what every query of ``SQLiteStore`` runs through."""

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
            raise StoreReadOnlyError(f"{self.path}: the project is read-only here ({why_read_only(self.path)}); "
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
            self._version = self.schema_version()
            self._cols = region_cols(self._version)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and _is_busy(e):
                raise ProjectBusyError(f"{self.path}: project is busy (another process holds the write lock)") from None
            if isinstance(e, sqlite3.OperationalError) and not readonly and disk_full(self.path):
                raise StoreFullError(f"{self.path}: cannot open the store for writing: the disk is full") from None
            raise StoreError(f"{self.path}: not a readable project store ({e})") from None

    # -- schema -------------------------------------------------------------------
    def _create(self) -> None:
        with self._tx() as c:
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
            raise StoreError(f"{self.path}: not an xwb project store (no schema version)") from None
        if v > SCHEMA_VERSION:
            if not self.readonly:
                raise SchemaTooNewError(
                    f"{self.path}: written by a newer xwb (schema {v}, this xwb knows up to {SCHEMA_VERSION}); "
                    "upgrade xwb, or open it read-only")
            return
        if v < SCHEMA_VERSION:
            if self.readonly:
                return  # an old file can be read as it is; it is migrated when opened for writing
            with self._tx() as c:
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
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all land or none does (nested ones join the outer one)."""
        with self._tx():
            yield

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: the queries inside see one state while other writers commit."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def set_busy_timeout(self, seconds: float) -> None:
        self.timeout = seconds
        self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def check(self) -> list[str]:
        """SQLite's integrity and foreign-key checks; empty when the file is sound."""
        found = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        found += [f"{t} row {rowid}: dangling reference to {parent}"
                  for t, rowid, parent, _ in self.conn.execute("PRAGMA foreign_key_check")]
        return found

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic write. Raises ProjectBusyError when the lock does not come in time; a failure of
        the store itself (disk full, read-only file) is one XwbError naming the cause, never a traceback."""
        if self.readonly:
            raise StoreReadOnlyError(f"{self.path}: project is open read-only")
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

    def _store_error(self, e: sqlite3.Error) -> StoreError:
        m = str(e).lower()
        kind: type[StoreError] = StoreError
        if "full" in m or ("i/o" in m and disk_full(self.path)):
            why, kind = "the disk is full", StoreFullError
        elif "readonly" in m or "read-only" in m:
            why, kind = "the store file or its folder is read-only", StoreReadOnlyError
        elif "disk i/o" in m:
            why = "a disk I/O error"
        else:
            why = str(e)
        return kind(f"{self.path}: the change was not saved: {why}")


def guarded(fn, catch: type[BaseException], convert):
    """``fn`` (a method, or a generator method) with the driver's exceptions ``catch`` turned into the
    store's own by ``convert(store, error, reading)``: ``reading`` is true inside a generator (rows handed out
    one by one), where nothing was being saved."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(self, *a, **kw):
            try:
                yield from fn(self, *a, **kw)
            except catch as e:
                raise convert(self, e, True) from None
        return gen

    @functools.wraps(fn)
    def call(self, *a, **kw):
        try:
            return fn(self, *a, **kw)
        except catch as e:
            raise convert(self, e, False) from None
    return call


def guard_public(cls: type, catch: type[BaseException], convert, inherited: bool = False) -> type:
    """Wrap every public method of ``cls`` (with ``inherited``, those of its bases too, re-wrapped for this
    driver) but ``transaction`` and ``snapshot``: no driver exception leaves the backend."""
    names = dir(cls) if inherited else list(vars(cls))
    for name in names:
        fn = inspect.getattr_static(cls, name)  # a staticmethod stays one (and is left alone)
        if not name.startswith("_") and inspect.isfunction(fn) and name not in ("transaction", "snapshot"):
            setattr(cls, name, guarded(inspect.unwrap(fn), catch, convert))
    return cls


def _sqlite_error(store, e: sqlite3.Error, reading: bool) -> StoreError:
    """sqlite3's exceptions become StoreError at the backend's edge (a read of a damaged or vanished file)."""
    if not reading and isinstance(e, sqlite3.OperationalError):
        return store._store_error(e)
    return StoreError(f"{store.path}: {e}")


def guard_methods(cls: type) -> type:
    """Wrap every public method of a store class so no sqlite3 exception leaves it."""
    return guard_public(cls, sqlite3.Error, _sqlite_error)


guard_methods(Database)
