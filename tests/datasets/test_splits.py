import numpy as np

from datasets.project import Project
from datasets.regions import Region
from datasets.splits import assign_splits
from tests.conftest import write_scans

TRI = np.array([[1, 1], [9, 1], [5, 9.0]])


def _add(p: Project, n, seed, classes):
    files = write_scans(p.folder / "images" / f"batch{seed}", n, size=(16, 16), seed=seed)
    p.add_scans(files)
    rng = np.random.default_rng(seed)
    new = [im for im in p.images() if im.split is None]
    for im in new:
        c = classes[int(rng.integers(0, len(classes)))]
        if c:
            p.store.add_region(im.id, Region(c, polygon=TRI))


def test_splits_are_frozen_and_class_balanced(project):
    _add(project, 200, 1, [0, 1, 1, 2, 3])
    assign_splits(project)
    first = {im.path: im.split for im in project.images()}
    counts = {s: sum(1 for v in first.values() if v == s) for s in ("train", "val", "test")}
    assert abs(counts["train"] - 140) <= 3 and abs(counts["test"] - 30) <= 3
    # every class is spread near 70/15/15
    by_cls = project.store.region_classes_by_image()
    for c in (1, 2, 3):
        ims = [im for im in project.images() if c in by_cls.get(im.id, ())]
        share = sum(im.split == "test" for im in ims) / len(ims)
        assert 0.08 < share < 0.22, (c, share)
    # add more images and labels (also on already-split images): nothing moves
    for im in project.images()[:20]:
        project.store.add_region(im.id, Region(4, polygon=TRI))
    _add(project, 100, 2, [4, 4, 1])
    added = assign_splits(project)
    assert sum(added.values()) == 100
    after = {im.path: im.split for im in project.images()}
    assert all(after[k] == v for k, v in first.items())
    assert all(after.values())
    # running again assigns nothing and changes nothing
    assert sum(assign_splits(project).values()) == 0


def test_same_project_gives_same_splits(tmp_path):
    res = []
    for k in range(2):
        p = Project.create(tmp_path / f"p{k}")
        _add(p, 60, 5, [0, 1, 2])
        assign_splits(p)
        res.append({im.path: im.split for im in p.images()})
        p.close()
    assert res[0] == res[1]


def test_store_never_overwrites_a_split(project):
    _add(project, 5, 3, [0])
    assign_splits(project)
    im = project.images()[0]
    other = "val" if im.split != "val" else "train"
    project.store.set_splits({im.id: other})
    assert project.store.image(im.id).split == im.split


def test_a_rare_class_reaches_val_and_test(project):
    """4 scans of a class at 70/15/15: one in val and one in test (rounding would put all 4 in train)."""
    _add(project, 60, 4, [1, 1, 2, 2, 0])
    rare = [im for im in project.images()][:4]
    for im in rare:
        project.store.add_region(im.id, Region(5, polygon=TRI))
    assign_splits(project)
    by_cls = project.store.region_classes_by_image()
    splits = sorted(project.store.image(im.id).split for im in rare)
    assert splits.count("val") == 1 and splits.count("test") == 1, splits
    for c in (1, 2):  # the common classes are still spread
        got = {s: sum(1 for im in project.images() if c in by_cls.get(im.id, ()) and im.split == s)
               for s in ("train", "val", "test")}
        assert min(got.values()) >= 1 and got["train"] > got["val"] + got["test"], (c, got)
