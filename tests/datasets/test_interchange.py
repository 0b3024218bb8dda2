import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.formats.coco import export_coco, import_coco
from datasets.formats.labelme import export_labelme, import_labelme
from datasets.formats.masks import export_masks
from datasets.project import Project
from datasets.regions import Region, label_map
from datasets.splits import assign_splits
from tests.conftest import region_total


def _label(p: Project, seed=0):
    """Polygons, masks (with a hole), a proposal, tags, manifest, status on the project's scans."""
    rng = np.random.default_rng(seed)
    for k, im in enumerate(p.images()):
        regs = []
        for j in range(3):
            cx, cy = rng.uniform(10, im.width - 10), rng.uniform(10, im.height - 10)
            ang = np.sort(rng.uniform(0, 2 * np.pi, 7))
            rad = rng.uniform(3, 9, 7)
            poly = np.clip(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1), 0, [im.width, im.height])
            regs.append(Region(1 + (k + j) % 10, polygon=poly, author="ann"))
        m = rng.random((14, 17)) > 0.4
        m[5:9, 6:10] = False
        regs.append(Region(3, mask=m, mask_x=int(rng.integers(0, im.width - 17)), mask_y=int(rng.integers(0, im.height - 14))))
        regs.append(Region(2, polygon=np.array([[1, 1], [8, 1.5], [4, 9]]), state="proposal", source="model:x/1", score=0.5))
        p.store.add_regions(im.id, regs)
        p.store.update_image(im.id, status="done", tags=["contraband"], manifest=["textiles"], comment=f"c{k}")
    assign_splits(p)


def _fresh_with_same_images(src: Project, tmp_path) -> Project:
    dst = Project.create(tmp_path / "dst", image_root=str(src.image_root.resolve()))
    return dst


def _regions_by_path(p: Project):
    return {im.path: sorted(r.content_key() + r.source.encode() for r in p.store.regions(im.id))
            for im in p.images()}


def test_coco_export_loads_in_pycocotools_and_annToMask_matches_ours(scans_project, tmp_path):
    p = scans_project
    _label(p)
    export_coco(p, tmp_path / "coco.json")
    coco = COCO(str(tmp_path / "coco.json"))
    ims = {im.id: im for im in p.images()}
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 4 * len(ims)  # proposals are left out by default
    for ann, reg in zip(anns, [r for im in p.images() for r in p.store.regions(im.id, "accepted")]):
        im = ims[ann["image_id"]]
        ours = reg.to_mask(im.width, im.height)
        assert np.array_equal(coco.annToMask(ann).astype(bool), ours)
        assert ours.any()


def test_coco_roundtrip_is_lossless(scans_project, tmp_path):
    p = scans_project
    _label(p)
    export_coco(p, tmp_path / "coco.json", with_proposals=True)
    dst = _fresh_with_same_images(p, tmp_path)
    s = import_coco(dst, tmp_path / "coco.json")
    assert s.regions == 5 * 6 and s.new_images == 6
    assert _regions_by_path(dst) == _regions_by_path(p)
    for a, b in zip(p.images(), dst.images()):
        assert (a.path, a.tags, a.manifest, a.status, a.comment) == (b.path, b.tags, b.manifest, b.status, b.comment)
    # importing the same file again adds nothing
    again = import_coco(dst, tmp_path / "coco.json")
    assert again.regions == 0 and again.duplicates == 30


def test_labelme_roundtrip_is_lossless(scans_project, tmp_path):
    p = scans_project
    _label(p)
    export_labelme(p, tmp_path / "lm", with_proposals=True)
    files = sorted((tmp_path / "lm").rglob("scan_*.json"))  # and splits.json
    assert len(files) == 6
    doc = json.loads(files[0].read_text())
    assert {s["shape_type"] for s in doc["shapes"]} == {"polygon", "mask"} and doc["flags"]["contraband"]
    dst = _fresh_with_same_images(p, tmp_path)
    import_labelme(dst, tmp_path / "lm")
    assert _regions_by_path(dst) == _regions_by_path(p)
    assert [im.tags for im in dst.images()] == [im.tags for im in p.images()]


def test_labelme_shapes_rectangle_circle_and_skipped(scans_project, tmp_path):
    p = scans_project
    im = p.images()[0]
    doc = {"version": "5.5.0", "flags": {"weapon": True, "clear": False}, "imageData": None,
           "imagePath": "../proj/images/" + im.path.split("/")[-1], "imageWidth": im.width, "imageHeight": im.height,
           "shapes": [
               {"label": "knife", "shape_type": "rectangle", "points": [[10, 5], [2, 20]]},
               {"label": "firearm", "shape_type": "circle", "points": [[30, 30], [30, 40]]},
               {"label": "firearm", "shape_type": "point", "points": [[3, 3]]},
               {"label": "firearm", "shape_type": "linestrip", "points": [[3, 3], [5, 5], [9, 1]]},
           ]}
    f = tmp_path / "x.json"
    f.write_text(json.dumps(doc))
    # imagePath is relative to the JSON file (tmp_path), so ../proj/... climbs out: use the real layout
    doc["imagePath"] = "proj/images/" + im.path.split("/")[-1]
    f.write_text(json.dumps(doc))
    s = import_labelme(p, f)
    assert s.skipped_shapes == {"point": 1, "linestrip": 1}
    regs = p.store.regions(im.id)
    assert [p.taxonomy.by_id(r.class_id).name for r in regs] == ["knife", "firearm"]
    assert np.allclose(regs[0].polygon, [[2, 5], [10, 5], [10, 20], [2, 20]])
    assert len(regs[1].polygon) == 64 and abs(regs[1].area() - np.pi * 100) < 2
    assert p.store.image(im.id).tags == ["weapon"]


def test_mask_export_palette_and_per_class(scans_project, tmp_path):
    p = scans_project
    _label(p)
    export_masks(p, tmp_path / "m", per_class=True)
    im = p.images()[0]
    png = Image.open(tmp_path / "m" / "labels" / (im.path.rsplit(".", 1)[0] + ".png"))
    assert png.mode == "P"
    assert png.getpalette()[3:6] == list(p.taxonomy.by_id(1).rgb)
    arr = np.asarray(png)
    assert np.array_equal(arr, label_map(p.store.regions(im.id, "accepted"), im.width, im.height))
    assert set(np.unique(arr)) - {0} == {r.class_id for r in p.store.regions(im.id, "accepted")}
    knife = tmp_path / "m" / "classes" / "drugs" / (im.path.rsplit(".", 1)[0] + ".png")
    assert knife.exists() and np.asarray(Image.open(knife)).max() == 255
    assert json.loads((tmp_path / "m" / "classes.json").read_text())["firearm"] == 1


def _coco_doc(p):
    im = p.images()[0]
    return {"images": [{"id": 1, "file_name": im.path, "width": im.width, "height": im.height}],
            "categories": [{"id": 7, "name": "knife"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "iscrowd": 0,
                             "segmentation": [[1, 1, 20, 1, 20, 20]]}]}


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d["annotations"][0].update(segmentation=[[1, 1, 20, 1]]), "at least 3"),
    (lambda d: d["annotations"][0].update(segmentation=[[1, 1, 2000, 1, 20, 20]]), "outside"),
    (lambda d: d["annotations"][0].update(segmentation={"size": [3, 3], "counts": [9]}), "does not match"),
    (lambda d: d["annotations"][0].update(segmentation={"size": [64, 96], "counts": [5, 7]}), "bad RLE"),
    (lambda d: d["annotations"][0].update(segmentation={"size": [64, 96], "counts": "zzzzzzz"}), "bad RLE"),
    (lambda d: d["images"][0].update(file_name="/etc/passwd"), "absolute"),
    (lambda d: d["images"][0].update(file_name="../../x.tiff"), r"climbs out"),
    (lambda d: d["annotations"].append(dict(d["annotations"][0])), "duplicate annotation id"),
    (lambda d: d["images"].append(dict(d["images"][0])), "duplicate image id"),
    (lambda d: d["categories"][0].update(name="bazooka"), "classes not in the taxonomy: bazooka"),
    (lambda d: d["annotations"][0].update(image_id=5), "image_id 5"),
    (lambda d: d["images"][0].update(width=50), "says 50x64"),
])
def test_bad_coco_is_refused_whole_and_changes_nothing(scans_project, tmp_path, mutate, msg):
    p = scans_project
    _label(p)
    before = (snapshot_digest(p), region_total(p.store))
    doc = _coco_doc(p)
    # a valid annotation first, so that a half import would show
    doc["annotations"].insert(0, {"id": 99, "image_id": 1, "category_id": 7, "segmentation": [[30, 30, 40, 30, 40, 40]]})
    mutate(doc)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(XwbError, match=msg) as e:
        import_coco(p, f)
    assert "bad.json" in str(e.value)
    assert (snapshot_digest(p), region_total(p.store)) == before


def test_malformed_json_names_the_file(project, tmp_path):
    f = tmp_path / "broken.json"
    f.write_text('{"images": [')
    with pytest.raises(XwbError, match=r"broken.json: malformed JSON"):
        import_coco(project, f)


def test_add_classes_extends_taxonomy_and_yaml(scans_project, tmp_path):
    p = scans_project
    doc = _coco_doc(p)
    doc["categories"][0]["name"] = "pangolin_scales"
    (tmp_path / "c.json").write_text(json.dumps(doc))
    s = import_coco(p, tmp_path / "c.json", add_classes=True)
    assert s.added_classes == ["pangolin_scales"] and s.regions == 1
    again = Project.open(p.folder)
    new = again.taxonomy.by_name("pangolin_scales")
    assert new.id == 11 and again.store.regions(p.images()[0].id)[0].class_id == 11
    again.close()


def test_digest_is_stable_across_roundtrip_and_changes_with_labels(scans_project, tmp_path):
    p = scans_project
    _label(p)
    d0 = snapshot_digest(p)
    assert snapshot_digest(p) == d0
    export_coco(p, tmp_path / "c.json", with_proposals=True)
    dst = _fresh_with_same_images(p, tmp_path)
    import_coco(dst, tmp_path / "c.json")
    dst.store.set_splits({im.id: p.store.image(p.store.image_id_by_path(im.path)).split for im in dst.images()})
    assert snapshot_digest(dst) == d0
    # proposals and status do not change the dataset version; an accepted region does
    im = p.images()[0]
    p.store.replace_proposals(im.id, "model:y/1", [Region(5, polygon=np.array([[0, 0], [3, 0], [3, 3.0]]), state="proposal")])
    p.store.update_image(im.id, status="reviewed")
    assert snapshot_digest(p) == d0
    r = p.store.regions(im.id, "accepted")[0]
    r.polygon = r.polygon + 0.5
    p.store.update_region(r)
    assert snapshot_digest(p) != d0


def test_every_export_carries_the_dataset_digest_and_the_split_of_every_scan(scans_project, tmp_path):
    """A model trained outside xwb on an export can be traced back to the same labels and test set."""
    import xml.etree.ElementTree as ET

    from datasets.formats import exporter

    p = scans_project
    _label(p)
    digest = snapshot_digest(p)
    want = {s: sorted(im.path for im in p.images() if im.split == s) for s in ("train", "val", "test")}
    assert sum(map(len, want.values())) == len(p.images())
    for fmt in ("labelme", "masks", "yolo"):
        exporter(fmt)(p, tmp_path / fmt)
        card = json.loads((tmp_path / fmt / "splits.json").read_text())
        assert card["dataset_digest"] == digest and card["project"] == p.name
        assert {s: sorted(card["splits"][s]) for s in want} == want and card["splits"]["unassigned"] == []
    one = json.loads(next((tmp_path / "labelme").rglob("scan_000.json")).read_text())
    assert one["xwb"]["split"] == p.images()[0].split
    import_labelme(_fresh_with_same_images(p, tmp_path), tmp_path / "labelme")  # splits.json is no labelme file
    export_coco(p, tmp_path / "c.json")
    c = json.loads((tmp_path / "c.json").read_text())
    assert c["info"]["xwb"]["dataset_digest"] == digest and c["info"]["version"] == digest[:12]
    assert {im["file_name"]: im["xwb"]["split"] for im in c["images"]} == {im.path: im.split for im in p.images()}
    exporter("cvat")(p, tmp_path / "cvat")
    xml = (tmp_path / "cvat" / "annotations.xml").read_text()
    assert f"xwb dataset digest {digest}" in xml
    assert {e.get("name"): e.get("subset") for e in ET.fromstring(xml).iter("image")} == \
        {im.path: im.split for im in p.images()}
