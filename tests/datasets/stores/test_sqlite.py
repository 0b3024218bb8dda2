"""What only the sqlite backend promises: the file's modes, its migrations, a foreign file refused, and
sqlite3's errors turned into StoreError. (This folder and datasets/stores/ are the only places SQL may appear.)"""
import sqlite3

import numpy as np
import pytest

from datasets.errors import ProjectBusyError, SchemaTooNewError, StoreError, XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.stores import sqlite_schema
from datasets.stores.sqlite import SQLiteStore
from datasets.stores.sqlite_schema import SCHEMA_VERSION

TRI = np.array([[0, 0], [9, 0], [9, 9.0]])


@pytest.fixture
def db_project(tmp_path):
    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


def test_store_is_wal_with_foreign_keys(db_project):
    c = db_project.store.conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db_project.store.schema_version() == SCHEMA_VERSION
    assert (db_project.folder / "labels.sqlite").is_file()


def test_newer_schema_is_refused_read_write_but_reads(db_project):
    path = db_project.store.path
    db_project.store.conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    db_project.close()
    with pytest.raises(SchemaTooNewError, match="newer xwb"):
        SQLiteStore(path)
    ro = SQLiteStore(path, readonly=True)
    assert ro.images() == []
    ro.close()


def test_old_schema_is_migrated_forward(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(sqlite_schema.SCHEMA_V1)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    s = SQLiteStore(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.claim_editor("ann") is not None  # the v2 table exists and works
    assert s.tag_proposals(1) == []             # and the v3 one
    sql = s.conn.execute("SELECT sql FROM sqlite_master WHERE name='regions'").fetchone()[0]
    assert "AUTOINCREMENT" in sql and "'rejected'" in sql  # v4: ids never reused, rejected proposals kept
    s.close()


def test_not_a_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "labels.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="labels.sqlite"):
        SQLiteStore(bad)


def test_another_writer_holding_the_lock_is_project_busy(db_project):
    db_project.store.set_busy_timeout(0.1)
    other = sqlite3.connect(str(db_project.store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ProjectBusyError, match="busy"):
            db_project.store.update_image(1, status="done")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_no_sqlite3_error_leaves_the_store(db_project):
    """A file that vanished or broke under an open store: the caller gets a StoreError naming it."""
    st = db_project.store
    st.conn.execute("DROP TABLE image_tags")
    with pytest.raises(StoreError, match="labels.sqlite.*image_tags"):
        st.images()
    st.conn.execute("DROP TABLE regions")
    with pytest.raises(StoreError, match="labels.sqlite.*regions"):
        list(st.iter_regions())  # a generator too
    assert not issubclass(StoreError, sqlite3.Error)


def test_the_sqlite_backend_takes_no_settings(tmp_path):
    with pytest.raises(XwbError, match="sqlite backend takes no settings, got dsn"):
        Project.create(tmp_path / "p", store={"backend": "sqlite", "dsn": "postgresql://x"})


def test_migrating_to_volumes_keeps_region_ids_unused(tmp_path):
    """v7 rebuilds the regions table (its kind CHECK grew): a region deleted before the migration keeps its
    id out of reach, so an undo can still restore it under that id."""
    path = tmp_path / "v6.sqlite"
    s = SQLiteStore(path, create=True)
    s.conn.executescript("DROP TABLE regions; DROP TABLE history")  # back to a v6 store by hand
    s.close()
    conn = sqlite3.connect(path)
    v6 = sqlite_schema.MIGRATIONS[3].split("INSERT INTO")[0].replace("regions_v4", "regions")
    conn.executescript(v6 + sqlite_schema.MIGRATIONS[4] + """
        CREATE INDEX regions_by_image ON regions(image_id);
        UPDATE meta SET value='6' WHERE key='schema_version';
        INSERT INTO images (path, width, height, channels, bit_depth, layout, sha256, added_at, updated_at)
            VALUES ('a.tif', 8, 8, 1, 16, 'gray', 'x', 0, 0);""")
    conn.execute("ALTER TABLE images DROP COLUMN depth")
    for _ in range(3):
        conn.execute("INSERT INTO regions (image_id, class_id, kind, polygon, x0, y0, x1, y1, area, state, "
                     "created_at, updated_at) VALUES (1, 1, 'polygon', ?, 0, 0, 9, 9, 40, 'accepted', 0, 0)",
                     (TRI.tobytes(),))
    conn.execute("DELETE FROM regions WHERE id = 3")
    conn.commit()
    conn.close()
    s = SQLiteStore(path)
    assert s.schema_version() == SCHEMA_VERSION and s.image(1).depth == 1
    assert [r.id for r in s.regions(1)] == [1, 2]
    assert s.add_region(1, Region(1, box=np.array([0.0, 0, 0, 2, 2, 2]))) == 4  # never 3 again
    s.close()


def test_the_history_cannot_be_rewritten_even_with_sql(db_project):
    from tests.conftest import write_scans

    db_project.add_scans(write_scans(db_project.folder / "images", 1))
    db_project.store.add_region(db_project.store.images()[0].id, Region(1, polygon=TRI))
    conn = sqlite3.connect(db_project.store.path)
    for sql in ("DELETE FROM history", "UPDATE history SET who='mallory'"):
        with pytest.raises(sqlite3.DatabaseError, match="history is append-only"):
            conn.execute(sql)
    conn.close()
    assert db_project.store.history()[-1].action == "region.create"
