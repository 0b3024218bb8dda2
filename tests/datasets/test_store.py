import sqlite3

import numpy as np
import pytest

from datasets.errors import SchemaTooNewError, XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.store import SCHEMA_VERSION, Store


def test_store_is_wal_with_foreign_keys(project):
    c = project.store.conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert project.store.schema_version() == SCHEMA_VERSION


def test_regions_roundtrip_polygon_and_mask(scans_project):
    p = scans_project
    im = p.images()[0]
    poly = Region(1, polygon=np.array([[1.5, 2.25], [30.0, 4.0], [20.125, 40.0]]), author="ann")
    m = np.zeros((10, 12), bool)
    m[2:8, 3:11] = True
    m[4, 5] = False
    mask = Region(3, mask=m, mask_x=40, mask_y=20, state="proposal", source="model:seg/2", score=0.75)
    ids = p.store.add_regions(im.id, [poly, mask])
    got = p.store.regions(im.id)
    assert [r.id for r in got] == ids
    assert np.array_equal(got[0].polygon, poly.polygon) and got[0].author == "ann"
    # masks are stored cropped to their tight box, losslessly
    assert got[1].mask_x == 43 and got[1].mask_y == 22 and got[1].mask.shape == (6, 8)
    assert np.array_equal(got[1].to_mask(im.width, im.height), mask.to_mask(im.width, im.height))
    assert got[1].source == "model:seg/2" and got[1].score == 0.75 and got[1].state == "proposal"
    assert p.store.regions(im.id, state="accepted")[0].id == ids[0]


def test_image_level_fields(scans_project):
    p = scans_project
    im = p.images()[0]
    p.store.update_image(im.id, status="done", comment="check the corner", tags=["contraband", "weapon"],
                         manifest=["textiles", "shoes"])
    got = p.store.image(im.id)
    assert (got.status, got.comment, got.tags, got.manifest) == (
        "done", "check the corner", ["contraband", "weapon"], ["shoes", "textiles"])
    with pytest.raises(XwbError, match="status must be one of"):
        p.store.update_image(im.id, status="finished")
    assert p.store.image(im.id).status == "done"


def test_deleting_an_image_cascades_to_its_regions(scans_project):
    p = scans_project
    im = p.images()[0]
    p.store.add_region(im.id, Region(1, polygon=np.array([[0, 0], [5, 0], [5, 5.0]])))
    p.store.delete_image(im.id)
    assert p.store.conn.execute("SELECT COUNT(*) FROM regions").fetchone()[0] == 0


def test_failed_transaction_leaves_nothing(scans_project):
    p = scans_project
    im = p.images()[0]
    with pytest.raises(RuntimeError), p.store.transaction():
        p.store.add_region(im.id, Region(1, polygon=np.array([[0, 0], [5, 0], [5, 5.0]])))
        raise RuntimeError("crash in the middle")
    assert p.store.regions(im.id) == []


def test_replace_proposals_keeps_manual_and_accepted(scans_project):
    p = scans_project
    iid = p.images()[0].id
    tri = np.array([[0, 0], [9, 0], [9, 9.0]])
    manual = p.store.add_region(iid, Region(1, polygon=tri))
    p.store.replace_proposals(iid, "model:a/1", [Region(2, polygon=tri, state="proposal", source="model:a/1")])
    other = p.store.add_region(iid, Region(2, polygon=tri, state="proposal", source="model:a/2"))
    p.store.replace_proposals(iid, "model:a/1", [Region(4, polygon=tri, state="proposal", source="model:a/1", score=.9)])
    got = {r.id: r for r in p.store.regions(iid)}
    assert manual in got and other in got
    mine = [r for r in got.values() if r.source == "model:a/1"]
    assert len(mine) == 1 and mine[0].class_id == 4 and mine[0].score == 0.9


def test_newer_schema_is_refused_read_write_but_reads(project):
    path = project.store.path
    project.store.conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    project.close()
    with pytest.raises(SchemaTooNewError, match="newer xwb"):
        Store(path)
    ro = Store(path, readonly=True)
    assert ro.images() == []
    ro.close()


def test_old_schema_is_migrated_forward(tmp_path):
    path = tmp_path / "old.sqlite"
    from datasets import store as st

    conn = sqlite3.connect(path)
    conn.executescript(st._SCHEMA_V1)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    s = Store(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.claim_editor("ann") is not None  # the v2 table exists and works
    assert s.tag_proposals(1) == []             # and the v3 one
    s.close()


def test_tag_proposals_are_replaced_per_source(scans_project):
    st = scans_project.store
    iid = st.images()[0].id
    st.update_image(iid, tags=["weapon"])
    st.replace_tag_proposals(iid, "model:m/1", {"narcotics": 0.9, "tobacco": 0.6})
    st.replace_tag_proposals(iid, "model:m/2", {"narcotics": 0.7})
    st.replace_tag_proposals(iid, "model:m/1", {"cash": 0.8})
    assert st.tag_proposals(iid) == [("cash", "model:m/1", 0.8), ("narcotics", "model:m/2", 0.7)]
    assert st.image(iid).tags == ["weapon"]  # the image's own tags are not touched


def test_not_a_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "labels.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(XwbError, match="labels.sqlite"):
        Store(bad)


def test_editor_seat_is_exclusive(project):
    other = Project.open(project.folder)
    sid = project.store.claim_editor("ann")
    assert sid is not None
    assert other.store.claim_editor("bob") is None
    project.store.release_editor(sid)
    assert other.store.claim_editor("bob") is not None
    other.close()


def test_project_yaml_errors_name_the_key(tmp_path, project):
    cfg = project.folder / "project.yaml"
    text = cfg.read_text()
    cfg.write_text(text.replace("image_root:", "imagee_root:"))
    with pytest.raises(XwbError, match="imagee_root: unknown key"):
        Project.open(project.folder)
    cfg.write_text(text.replace("color: '#e6194b'", "color: red"))
    with pytest.raises(XwbError, match=r"classes\[0\]\.color"):
        Project.open(project.folder)
