"""The Store contract: what every backend must do, run over each one (see conftest.py).

Only the protocol of ``datasets.stores.base.Store`` is used here: no SQL, no driver."""
import numpy as np
import pytest

from datasets.errors import StoreError, StoreReadOnlyError, XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.stores import ImageRecord, Store
from tests.conftest import region_total

TRI = np.array([[0, 0], [9, 0], [9, 9.0]])


def test_backend_implements_the_protocol(project, backend):
    assert isinstance(project.store, Store)
    assert project.store.schema_version() >= 1 and project.store.check() == []
    assert project.config.store["backend"] == backend
    with Project.open(project.folder) as again:  # project.yaml names the backend it was created with
        assert type(again.store) is type(project.store)


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
    assert [r.id for r in p.store.iter_regions()] == ids
    assert p.store.region(ids[1]).class_id == 3


def test_shape_group_and_ignore_are_kept(scans_project):
    st = scans_project.store
    iid = st.images()[0].id
    rid = st.add_region(iid, Region(2, polygon=TRI, shape={"type": "circle", "r": 4.5}, group=3, ignore=True))
    got = st.region(rid)
    assert (got.shape, got.group, got.ignore) == ({"type": "circle", "r": 4.5}, 3, True)
    assert st.max_group(iid) == 3


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
    assert [r.id for r in p.store.images(status="done")] == [im.id]
    assert (im.id, im.path, "done") in p.store.image_statuses()
    assert p.store.image_id_by_path(im.path) == im.id and p.store.image_id_by_path("nope.tiff") is None
    with pytest.raises(XwbError, match="image 999999 is not in the project"):
        p.store.image(999999)


def test_added_records_come_back_whole(project):
    rec = ImageRecord(0, "a/b.tiff", 640, 480, 2, 16, "dual", "ab" * 32, tags=["weapon"], manifest=["toys"])
    [iid] = project.store.add_images([rec])
    got = project.store.image(iid)
    assert (got.path, got.width, got.height, got.channels, got.bit_depth, got.layout, got.sha256) == \
        ("a/b.tiff", 640, 480, 2, 16, "dual", "ab" * 32)
    assert got.tags == ["weapon"] and got.manifest == ["toys"] and got.split is None


def test_splits_are_frozen_once_assigned(scans_project):
    st = scans_project.store
    a, b = (r.id for r in st.images()[:2])
    st.set_splits({a: "train"})
    st.set_splits({a: "test", b: "val"})
    assert (st.image(a).split, st.image(b).split) == ("train", "val")
    st.set_splits({a: "test"}, reassign=True)
    assert st.image(a).split == "test" and [r.id for r in st.images(split="test")] == [a]
    with pytest.raises(XwbError, match="split must be one of"):
        st.set_splits({b: "holdout"})


def test_deleting_an_image_cascades_to_its_regions(scans_project):
    p = scans_project
    im = p.images()[0]
    p.store.add_region(im.id, Region(1, polygon=TRI))
    p.store.replace_tag_proposals(im.id, "model:m/1", {"weapon": 0.5})
    p.store.delete_image(im.id)
    assert region_total(p.store) == 0 and p.store.tag_proposals(im.id) == []
    assert p.store.check() == []


def test_failed_transaction_leaves_nothing(scans_project):
    p = scans_project
    im = p.images()[0]
    with pytest.raises(RuntimeError), p.store.transaction():
        p.store.add_region(im.id, Region(1, polygon=TRI))
        with p.store.transaction():  # a nested one joins the outer one, and goes with it
            p.store.update_image(im.id, status="done")
        raise RuntimeError("crash in the middle")
    assert p.store.regions(im.id) == [] and p.store.image(im.id).status == "new"


def test_a_snapshot_does_not_see_later_commits(scans_project, store_settings):
    st = scans_project.store
    iid = st.images()[0].id
    with Project.open(scans_project.folder) as other:
        v0 = st.data_version()
        with st.snapshot():
            before = st.region_counts()
            other.store.add_region(iid, Region(1, polygon=TRI))
            assert st.region_counts() == before
        assert st.region_counts() == {iid: 1}
        assert st.data_version() != v0  # another connection committed: a view polling this would refresh


def test_replace_proposals_keeps_manual_and_accepted(scans_project):
    p = scans_project
    iid = p.images()[0].id
    manual = p.store.add_region(iid, Region(1, polygon=TRI))
    p.store.replace_proposals(iid, "model:a/1", [Region(2, polygon=TRI, state="proposal", source="model:a/1")])
    other = p.store.add_region(iid, Region(2, polygon=TRI, state="proposal", source="model:a/2"))
    p.store.replace_proposals(iid, "model:a/1", [Region(4, polygon=TRI, state="proposal", source="model:a/1", score=.9)])
    got = {r.id: r for r in p.store.regions(iid)}
    assert manual in got and other in got
    mine = [r for r in got.values() if r.source == "model:a/1"]
    assert len(mine) == 1 and mine[0].class_id == 4 and mine[0].score == 0.9


def test_rejected_proposals_are_kept_but_are_not_labels(scans_project):
    st = scans_project.store
    iid = st.images()[0].id
    rid = st.add_region(iid, Region(2, polygon=TRI, state="proposal", source="model:a/1", score=0.4))
    st.update_region(st.region(rid).copy(state="rejected", decided_by="ann"))
    assert st.regions(iid) == [] and [r.id for r in st.regions(iid, include_rejected=True)] == [rid]
    assert st.region_counts() == {} and st.counts()["regions"] == 0 and st.counts()["by_state"] == {"rejected": 1}


def test_ids_are_never_reused_and_deleted_regions_restore_under_their_id(scans_project):
    st = scans_project.store
    iid = st.images()[0].id
    ids = st.add_regions(iid, [Region(2, polygon=TRI) for _ in range(3)])
    gone = st.region(ids[-1])
    st.delete_region(gone.id)
    assert st.add_region(iid, Region(3, polygon=TRI)) > max(ids)
    with pytest.raises(XwbError, match="no longer exists"):
        st.update_region(gone.copy(class_id=4))
    assert st.restore_region(iid, gone) == gone.id and st.region(gone.id).class_id == 2
    with pytest.raises(XwbError, match="already exists"):
        st.restore_region(iid, gone)


def test_tag_proposals_are_replaced_per_source(scans_project):
    st = scans_project.store
    iid = st.images()[0].id
    st.update_image(iid, tags=["weapon"])
    st.replace_tag_proposals(iid, "model:m/1", {"narcotics": 0.9, "tobacco": 0.6})
    st.replace_tag_proposals(iid, "model:m/2", {"narcotics": 0.7})
    st.replace_tag_proposals(iid, "model:m/1", {"cash": 0.8})
    assert st.tag_proposals(iid) == [("cash", "model:m/1", 0.8), ("narcotics", "model:m/2", 0.7)]
    assert st.image(iid).tags == ["weapon"]  # the image's own tags are not touched


def test_counts_summarise_the_project(scans_project):
    st = scans_project.store
    a, b = (r.id for r in st.images()[:2])
    st.add_regions(a, [Region(1, polygon=TRI), Region(2, polygon=TRI)])
    st.add_region(b, Region(2, polygon=TRI))
    st.update_image(a, status="done", tags=["weapon"])
    c = st.counts()
    assert c["images"] == 6 and c["regions"] == 3 and c["by_status"] == {"new": 5, "done": 1}
    assert c["by_class"] == {1: {"regions": 1, "images": 1}, 2: {"regions": 2, "images": 2}}
    assert c["by_tag"] == {"weapon": 1} and c["by_split"] == {"unassigned": 6}
    assert st.region_classes_by_image() == {a: {1, 2}, b: {2}}


def test_editor_seat_is_exclusive(project):
    other = Project.open(project.folder)
    sid = project.store.claim_editor("ann")
    assert sid is not None
    assert other.store.claim_editor("bob") is None
    seat = other.store.editor()
    assert seat is not None and seat.user == "ann"
    project.store.heartbeat(sid)
    project.store.release_editor(sid)
    assert other.store.editor() is None
    assert other.store.claim_editor("bob") is not None
    other.close()


def test_read_only_store_refuses_writes_with_a_store_error(scans_project):
    with Project.open(scans_project.folder, readonly=True) as ro:
        assert len(ro.images()) == 6
        with pytest.raises(StoreReadOnlyError, match="read-only"):
            ro.store.update_image(ro.images()[0].id, status="done")
        assert issubclass(StoreReadOnlyError, StoreError)


def test_volume_records_and_3d_regions_roundtrip(project):
    """A volume's depth, its voxel masks (cropped to their box, losslessly) and 3-D boxes come back exact."""
    st = project.store
    [iid] = st.add_images([ImageRecord(0, "ct/bag.tif", 64, 48, 1, 16, "gray", "ab" * 32, depth=40, axes="zyx")])
    rec = st.image(iid)
    assert (rec.depth, rec.axes, rec.is_volume) == (40, "zyx", True)
    v = np.zeros((12, 10, 9), bool)
    v[2:9, 1:7, 3:8] = True
    v[5, 3, 4] = False
    vox = Region(4, voxels=v, mask_x=20, mask_y=10, mask_z=5, state="proposal", source="model:ct/1", score=0.5)
    box = Region(2, box=np.array([1.5, 2.0, 3.0, 30.0, 20.5, 17.0]), author="ann")
    ids = st.add_regions(iid, [vox, box])
    got = {r.id: r for r in st.regions(iid)}
    g = got[ids[0]]
    assert (g.kind, g.mask_x, g.mask_y, g.mask_z, g.voxels.shape) == ("voxels", 23, 11, 7, (7, 6, 5))
    assert g.content_key() == vox.content_key() and g.area() == v.sum()
    assert g.bbox3d() == (23.0, 11.0, 7.0, 28.0, 17.0, 14.0)
    b = got[ids[1]]
    assert b.kind == "box3d" and b.bbox3d() == (1.5, 2.0, 3.0, 30.0, 20.5, 17.0) and b.author == "ann"
    st.update_region(b.copy(box=np.array([0.0, 0.0, 0.0, 4.0, 4.0, 4.0])))
    assert st.region(ids[1]).area() == 64
    with pytest.raises(XwbError, match="3-D voxels region of a volume; a 2-D mask takes 2-D regions"):
        g.to_mask(64, 48)
    with pytest.raises(XwbError, match="x1 > x0"):
        Region(1, box=np.array([5.0, 0, 0, 5.0, 1, 1]))


def test_every_change_is_in_the_history_with_who_program_before_and_after(scans_project):
    from datasets import digest
    from datasets.stores.history import region_from_state

    st = scans_project.store
    st.set_actor("ann", "workbench")
    iid = st.images()[0].id
    d0 = digest.snapshot_digest(scans_project)
    start = len(st.history())
    rid = st.add_region(iid, Region(1, polygon=TRI, author="ann"))
    st.update_region(st.region(rid).copy(class_id=3))
    st.update_image(iid, status="done", tags=["weapon"])
    st.update_image(iid, status="done")  # no change: no entry
    st.set_actor("bob", "xwb prelabel")
    [pid] = st.replace_proposals(iid, "model:seg/1", [Region(2, polygon=TRI + 5, state="proposal",
                                                             source="model:seg/1", score=0.8)])
    st.replace_proposals(iid, "model:seg/1", [])
    st.delete_region(rid)
    with pytest.raises(RuntimeError), st.transaction():
        st.add_region(iid, Region(4, polygon=TRI))
        raise RuntimeError("crash")  # a change that did not land leaves no record either
    h = st.history()[start:]
    assert [(e.action, e.who, e.program) for e in h] == [
        ("region.create", "ann", "workbench"), ("region.update", "ann", "workbench"),
        ("image.update", "ann", "workbench"), ("region.create", "bob", "xwb prelabel"),
        ("region.delete", "bob", "xwb prelabel"), ("region.delete", "bob", "xwb prelabel")]
    assert h[1].summary() == "class_id 1 -> 3" and (h[1].before["class_id"], h[1].after["class_id"]) == (1, 3)
    assert (h[2].before["status"], h[2].after["status"], h[2].after["tags"]) == ("new", "done", ["weapon"])
    assert h[4].region_id == pid and h[4].before["state"] == "proposal"
    again = region_from_state(h[5].before)  # what was deleted can be made again, exactly
    assert again.content_key() == Region(3, polygon=TRI).content_key()
    assert [e.action for e in st.history(region_id=rid)] == ["region.create", "region.update", "region.delete"]
    assert {e.who for e in st.history(who="bob")} == {"bob"} and st.history(since=h[-1].at + 1) == []
    assert all(e.image_id == iid for e in h)
    st.update_image(iid, status="new", tags=[])  # labels as they were: the history does not enter the digest
    assert digest.snapshot_digest(scans_project) == d0
