"""Hostile and broken input, full disks, read-only folders, links (issue 13).

Each test reproduces one way the tool failed when tried by an attacker or an
unlucky user. Commands run as a user runs them (a real subprocess, under a
memory limit so that a regression cannot take the machine down) and every
refusal must be one line naming the file or key, leaving the project as it was.
"""
from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from tests.conftest import REPO, one_line_error, region_total, rle_string, tmpfs, write_scans

MEMORY_LIMIT = 4 << 30  # bytes of heap (RLIMIT_DATA: file-mapped libraries such as torch's do not count)


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))


def xwb(*args, env=None, umask=None, timeout=120):
    def pre():
        _limit_memory()
        if umask is not None:
            os.umask(umask)
    e = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_ALBUMENTATIONS_UPDATE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=e, preexec_fn=pre)


@pytest.fixture
def proj(tmp_path):
    p = Project.create(tmp_path / "p")
    p.add_scans(write_scans(p.folder / "images", 2, size=(40, 50)))
    p.store.add_region(p.images()[0].id, Region(1, polygon=np.array([[2, 2], [30, 2], [30, 30.0]])))
    p.close()
    return tmp_path / "p"


def digest(folder):
    with Project.open(folder, readonly=True) as p:
        return snapshot_digest(p)


def coco_doc(folder, categories, annotations, width=50, height=40):
    return {"images": [{"id": 1, "file_name": "images/scan_000.tiff", "width": width, "height": height}],
            "categories": categories, "annotations": annotations}


# -- 1. names that would write outside the export folder ---------------------------------------------------
def test_class_name_with_path_separators_is_refused_at_import(proj, tmp_path):
    bad = "a/../../../../../../outside/escaped"
    f = tmp_path / "evil.json"
    f.write_text(json.dumps(coco_doc(proj, [{"id": 7, "name": bad}], [
        {"id": 1, "image_id": 1, "category_id": 7, "segmentation": [[1, 1, 20, 1, 20, 20]]}])))
    before = digest(proj)
    r = xwb("import", "coco", proj, f, "--add-classes")
    one_line_error(r, "not a usable name", "outside")
    assert digest(proj) == before
    with Project.open(proj, readonly=True) as p:
        assert not p.taxonomy.has_name(bad)
    r = xwb("export", "masks", proj, tmp_path / "out", "--per-class")
    assert r.returncode == 0, r.stderr
    assert not list(tmp_path.glob("outside*")) and not (tmp_path.parent / "outside").exists()


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "a\\b", "", " lead", "x" * 65, "tab\there"])
def test_hand_edited_project_yaml_with_an_unsafe_class_or_tag_name_is_refused(proj, name):
    cfg = proj / "project.yaml"
    doc = __import__("yaml").safe_load(cfg.read_text())
    doc["taxonomy"]["classes"][0]["name"] = name
    cfg.write_text(__import__("yaml").safe_dump(doc))
    one_line_error(xwb("info", proj), "classes[0].name")
    doc["taxonomy"]["classes"][0]["name"] = "firearm"
    doc["taxonomy"]["tags"][0] = name
    cfg.write_text(__import__("yaml").safe_dump(doc))
    one_line_error(xwb("info", proj), "tags[0]")


def test_join_inside_refuses_every_escape(tmp_path):
    from datasets.safefs import join_inside

    assert join_inside(tmp_path, "labels", "a/b.png") == tmp_path / "labels" / "a" / "b.png"
    for part in ("../x", "/etc/passwd", "a/../../x", "a\\..\\x"):
        with pytest.raises(XwbError, match="outside"):
            join_inside(tmp_path, "classes", part)
    (tmp_path / "classes").mkdir()
    (tmp_path / "classes" / "link").symlink_to("/tmp")
    with pytest.raises(XwbError, match="outside"):
        join_inside(tmp_path, "classes", "link", "x.png")


# -- 2. a tiny COCO file must not allocate gigabytes ---------------------------------------------------------
def test_rle_string_matches_pycocotools():
    from pycocotools import mask as cocomask

    m = np.zeros((7, 9), np.uint8, order="F")
    m[2:5, 3:8] = 1
    enc = cocomask.encode(m)
    runs = [len(list(g)) for _, g in __import__("itertools").groupby(m.flatten(order="F"))]
    runs = ([0] if m.flatten(order="F")[0] else []) + runs
    assert rle_string(runs) == enc["counts"].decode()


@pytest.mark.parametrize("size,counts", [((100000, 100000), rle_string([10 ** 10])),
                                         ((60000, 60000), rle_string([3600 * 10 ** 6])),
                                         ((40, 50), [2 ** 33, 2000 - 2 ** 33])])
def test_rle_is_checked_against_the_real_image_before_decoding(proj, tmp_path, size, counts):
    h, w = size
    doc = coco_doc(proj, [{"id": 1, "name": "firearm"}],
                   [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [h, w], "counts": counts}}],
                   width=w, height=h)
    f = tmp_path / "rle.json"
    f.write_text(json.dumps(doc))
    assert f.stat().st_size < 400
    before = digest(proj)
    t = time.monotonic()
    r = xwb("import", "coco", proj, f)
    assert r.returncode == 1, r.stderr  # not a signal, not a MemoryError
    one_line_error(r, str(f))
    assert time.monotonic() - t < 60 and digest(proj) == before
    if h > 40:
        assert f"says {w}x{h} but images/scan_000.tiff is 50x40" in r.stderr


# -- 4. writes never follow a planted link --------------------------------------------------------------------
def test_exports_never_write_through_planted_links(proj, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "masks"
    (out / "labels" / "images").mkdir(parents=True)
    (out / "labels" / "images" / "scan_000.png").symlink_to(victim)
    r = xwb("export", "masks", proj, out, "--overwrite")
    one_line_error(r, "symbolic link")
    assert victim.read_text() == "precious"
    assert not list(out.rglob("*.png")) or all(p.is_symlink() for p in out.rglob("*.png"))  # nothing half-written
    assert not [p for p in out.rglob("*") if ".xwb-export" in str(p)]
    # the COCO file: a link or a folder at the target is refused, an existing file needs --overwrite
    link = tmp_path / "coco.json"
    link.symlink_to(victim)
    one_line_error(xwb("export", "coco", proj, link), "symbolic link")
    assert victim.read_text() == "precious"
    (tmp_path / "d" / "annotations.json").mkdir(parents=True)   # a folder where the file should go
    one_line_error(xwb("export", "coco", proj, tmp_path / "d"), "annotations.json", "is a folder")
    one_line_error(xwb("export", "masks", proj, victim), "victim.txt", "not a folder")
    ok = tmp_path / "c.json"
    assert xwb("export", "coco", proj, ok).returncode == 0
    one_line_error(xwb("export", "coco", proj, ok), "already exists", "--overwrite")
    assert xwb("export", "coco", proj, ok, "--overwrite").returncode == 0


def test_atomic_write_uses_an_unpredictable_temp_name(tmp_path):
    from datasets.safefs import atomic_write

    victim = tmp_path / "victim"
    victim.write_text("keep")
    for guess in (".out.png.tmp", "out.png.tmp", "out.tmp", ".out.png.tmp.tmp"):
        (tmp_path / guess).symlink_to(victim)
    atomic_write(tmp_path / "out.png", b"data")
    assert (tmp_path / "out.png").read_bytes() == b"data" and victim.read_text() == "keep"


# -- 5. YAML bombs and deep nesting --------------------------------------------------------------------------
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
DEEP = "name: " + "[" * 5000 + "]" * 5000 + "\n"


@pytest.mark.parametrize("text,needle", [(BOMB, "alias"), (DEEP, "nested deeper")])
def test_yaml_bombs_are_refused_in_one_line(proj, tmp_path, text, needle):
    (proj / "project.yaml").write_text(text)
    t = time.monotonic()
    one_line_error(xwb("info", proj), "project.yaml", needle)
    tax = tmp_path / "tax.yaml"
    tax.write_text(text)
    one_line_error(xwb("init", tmp_path / "new", "--taxonomy", tax), "tax.yaml", needle)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    one_line_error(xwb("train", recipe, "--project", proj), "recipe.yaml", needle)
    assert time.monotonic() - t < 60


# -- 6. full disks, read-only folders, links and folders in the way ---------------------------------------------
def _fill(folder: Path, leave: int = 0) -> None:
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize - leave
    with open(folder / "filler", "wb") as f, contextlib.suppress(OSError):
        f.write(b"\0" * max(free, 0))


def test_read_only_project_and_export_folder(tmp_path):
    with tmpfs(tmp_path / "ro", "20m") as mnt:
        assert xwb("synth", mnt / "p", "--kind", "baggage", "--count", "2", "--size", "128x160").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        one_line_error(xwb("split", mnt / "p"), "read-only file system")
        r = xwb("info", mnt / "p")  # reading a read-only project works
        assert r.returncode == 0 and "images: 2" in r.stdout, r.stderr
        one_line_error(xwb("export", "masks", mnt / "p", mnt / "out"), "Read-only file system")
        one_line_error(xwb("export", "coco", mnt / "p", mnt / "c.json"), "c.json", "Read-only file system")


def test_full_disk_export_leaves_nothing_and_store_names_the_cause(tmp_path):
    with tmpfs(tmp_path / "full", "12m") as mnt:
        assert xwb("synth", mnt / "p", "--kind", "baggage", "--count", "4", "--size", "256x256").returncode == 0
        _fill(mnt, leave=40_000)
        r = xwb("export", "masks", mnt / "p", mnt / "out", "--per-class")
        one_line_error(r, "out", "No space left")
        assert not (mnt / "out").exists() and not list(mnt.glob(".*tmp*")) and not list(mnt.glob("**/*.png"))
        with Project.open(mnt / "p") as p:
            n0 = region_total(p.store)
            rng = np.random.default_rng(0)
            iid = p.images()[0].id
            with pytest.raises(XwbError, match="disk is full") as e:
                for _ in range(200):
                    p.store.add_regions(iid, [Region(1, mask=rng.random((256, 256)) > 0.5) for _ in range(10)])
            assert "no transaction is active" not in str(e.value)
            assert p.store.check() == []
        os.unlink(mnt / "filler")
        with Project.open(mnt / "p", readonly=True) as p:  # every batch is there whole or not at all
            n = region_total(p.store)
            assert (n - n0) % 10 == 0, (n0, n)


# -- 8. region ids are never reused -------------------------------------------------------------------------------
def test_region_ids_are_never_reused_and_stale_updates_fail(proj):
    with Project.open(proj) as p:
        iid = p.images()[0].id
        tri = np.array([[1, 1], [9, 1], [9, 9.0]])
        ids = p.store.add_regions(iid, [Region(2, polygon=tri) for _ in range(5)])
        stale = p.store.region(ids[-1])
        for rid in ids[-2:]:
            p.store.delete_region(rid)
        new = p.store.add_region(iid, Region(3, polygon=tri))
        assert new > max(ids)
        with pytest.raises(XwbError, match="no longer exists"):
            p.store.update_region(stale.copy(class_id=4))
        assert p.store.region(new).class_id == 3
        with pytest.raises(XwbError, match="no longer exists"):
            p.store.delete_region(ids[-1])


# -- 9. output into a closed pipe ---------------------------------------------------------------------------------
def test_output_into_a_closed_pipe_ends_quietly(proj):
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "info", str(proj), "--json"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # `| head -0`: the reader is gone before anything is written
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
    assert proc.returncode in (0, 141)


# -- 10. files respect the umask ------------------------------------------------------------------------------------
@pytest.mark.parametrize("umask,file_mode,dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_written_files_respect_the_umask(tmp_path, umask, file_mode, dir_mode):
    proj = tmp_path / "s"
    assert xwb("synth", proj, "--kind", "baggage", "--count", "2", "--size", "128x160", umask=umask).returncode == 0
    assert stat.S_IMODE(proj.stat().st_mode) == dir_mode
    assert stat.S_IMODE((proj / "project.yaml").stat().st_mode) == file_mode
    assert xwb("export", "coco", proj, tmp_path / "c.json", umask=umask).returncode == 0
    assert xwb("export", "masks", proj, tmp_path / "m", umask=umask).returncode == 0
    assert xwb("export", "labelme", proj, tmp_path / "l", umask=umask).returncode == 0
    for f in [tmp_path / "c.json", tmp_path / "m" / "classes.json", *(tmp_path / "m").rglob("*.png"),
              *(tmp_path / "l").rglob("*.json")]:
        assert stat.S_IMODE(f.stat().st_mode) == file_mode, f


# -- 11. the WAL stays bounded under readers that never pause ----------------------------------------------------------
WAL_WRITER = r"""
import os, sys, numpy as np
from datasets.project import Project
from datasets.regions import Region
p = Project.open(sys.argv[1])
ids = [r.id for r in p.images()]
rng = np.random.default_rng(0)
wal, biggest = sys.argv[1] + "/labels.sqlite-wal", 0
for n in range(int(sys.argv[2])):
    p.store.add_region(ids[n % len(ids)], Region(1, mask=rng.random((64, 64)) > 0.3, mask_x=3, mask_y=3))
    biggest = max(biggest, os.stat(wal).st_size)  # after every commit: the WAL's real peak, no sampling
print(biggest)
"""
WAL_READER = r"""
import sys, time
from datasets.project import Project
p = Project.open(sys.argv[1], readonly=True)
while True:
    with p.store.snapshot():
        p.store.region_counts()
        p.store.images(with_sets=False)
"""


def test_wal_stays_bounded_under_sustained_reading(proj):
    env = {**os.environ, "XWB_WAL_LIMIT_MB": "1"}
    readers = [subprocess.Popen([sys.executable, "-c", WAL_READER, str(proj)], cwd=REPO, env=env)
               for _ in range(2)]
    try:
        w = subprocess.run([sys.executable, "-c", WAL_WRITER, str(proj), "1500"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=600)
        assert w.returncode == 0, w.stderr
        biggest = int(w.stdout)
    finally:
        for r in readers:
            r.kill()
            r.wait()
    # 1500 commits write ~20 MB of WAL frames; unbounded, the WAL holds them all
    assert biggest < 8 << 20, f"WAL reached {biggest / 1e6:.1f} MB"


# -- 14. project.yaml is validated like a recipe ---------------------------------------------------------------------
@pytest.mark.parametrize("edit,needle", [
    (lambda d: d.update(xwb_schema=99), "newer xwb"),
    (lambda d: d.update(xwb_schema="banana"), "xwb_schema"),
    (lambda d: d.update(name="n" * 300), "name"),
    (lambda d: d.update(name="two\nlines"), "name"),
    (lambda d: d.update(splits={"train": 0.5, "val": 0.5, "test": "x"}), "splits.test"),
    (lambda d: d.update(imagee_root="."), "imagee_root: unknown key"),
])
def test_project_yaml_fields_are_checked(proj, edit, needle):
    import yaml

    cfg = proj / "project.yaml"
    d = yaml.safe_load(cfg.read_text())
    edit(d)
    cfg.write_text(yaml.safe_dump(d))
    one_line_error(xwb("info", proj), "project.yaml", needle)


def test_huge_project_yaml_is_refused_without_reading_it(proj):
    with open(proj / "project.yaml", "a") as f:
        f.write("# " + "x" * (50 << 20) + "\n")
    one_line_error(xwb("info", proj), "project.yaml", "refused")


def test_duplicate_colours_are_reported(proj):
    import yaml

    cfg = proj / "project.yaml"
    d = yaml.safe_load(cfg.read_text())
    d["taxonomy"]["classes"][1]["color"] = d["taxonomy"]["classes"][0]["color"]
    cfg.write_text(yaml.safe_dump(d))
    r = xwb("info", proj)
    assert r.returncode == 0 and "warning:" in r.stderr and "share" in r.stderr


def test_classes_added_on_import_get_distinct_colours(proj):
    with Project.open(proj) as p:
        for i in range(40):
            p.taxonomy.add_class(f"extra_{i}")
        colors = [c.color.lower() for c in p.taxonomy.classes]
        assert len(set(colors)) == len(colors)
