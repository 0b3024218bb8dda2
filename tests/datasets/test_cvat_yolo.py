"""CVAT for images 1.1 XML and YOLO text labels, as those tools write them (issue 12)."""
import json
import shutil

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.formats import exporter, importer
from datasets.formats.cvat import mask_to_rle, rle_to_mask
from datasets.project import Project
from tests.conftest import empty_project

W, H = 500, 338

CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id>
      <name>bags</name>
      <size>1</size>
      <mode>annotation</mode>
      <labels>
        <label><name>knife</name><color>#fa3253</color><type>any</type><attributes></attributes></label>
        <label><name>firearm</name><color>#33ddff</color><type>any</type><attributes></attributes></label>
        <label><name>weapon</name><color>#ffcc33</color><type>tag</type><attributes></attributes></label>
      </labels>
    </task>
    <dumped>2026-11-01 10:00:00.000000+00:00</dumped>
  </meta>
  <image id="0" name="scans/bag1.png" width="500" height="338">
    <tag label="weapon" source="manual"></tag>
    <box label="knife" source="manual" occluded="0" xtl="191.30" ytl="107.50" xbr="313.00" ybr="338.40" z_order="0"></box>
    <polygon label="firearm" source="manual" occluded="0" points="10.00,10.00;60.50,12.00;40.25,50.75" z_order="1"
      group_id="3"></polygon>
    <polygon label="firearm" source="manual" occluded="0" points="70.00,10.00;90.00,10.00;80.00,30.00" z_order="1"
      group_id="3"></polygon>
    <mask label="knife" source="semi-auto" occluded="0" rle="3, 5" left="400" top="300" width="4" height="2" z_order="0"></mask>
    <ellipse label="firearm" source="manual" occluded="0" cx="250.00" cy="60.00" rx="20.00" ry="10.00" z_order="0"></ellipse>
    <polyline label="knife" source="manual" occluded="0" points="1.0,1.0;5.0,5.0" z_order="0"></polyline>
    <points label="knife" source="manual" occluded="0" points="3.0,3.0" z_order="0"></points>
  </image>
</annotations>
"""


@pytest.fixture
def bag(project):
    (project.image_root / "scans").mkdir()
    img = np.full((H, W, 3), 200, np.uint8)
    cv2.imwrite(str(project.image_root / "scans" / "bag1.png"), img)
    return project


def test_cvat_rle_is_row_major_and_starts_with_zeros():
    m = np.array([[0, 0, 0, 1], [1, 1, 1, 1]], bool)
    assert mask_to_rle(m) == [3, 5]
    assert mask_to_rle(~m) == [0, 3, 5]
    assert np.array_equal(rle_to_mask("3, 5", 4, 2, "x"), m)
    rng = np.random.default_rng(0)
    for _ in range(20):
        r = rng.random((7, 9)) > rng.random()
        assert np.array_equal(rle_to_mask(", ".join(map(str, mask_to_rle(r))), 9, 7, "x"), r)


def test_cvat_file_as_cvat_writes_it(bag, tmp_path):
    p = bag
    f = tmp_path / "annotations.xml"
    f.write_text(CVAT_XML)
    s = importer("cvat")(p, f)
    assert s.regions == 5 and s.clipped == 1  # ybr 338.40 on a 338-px image: a click on the border
    assert s.skipped_shapes == {"polylines": 1, "points": 1}
    im = p.images()[0]
    assert im.tags == ["weapon"]
    regs = p.store.regions(im.id)
    box, g1, g2, mask, ell = regs
    assert box.shape == {"type": "rectangle", "points": [[191.3, 107.5], [313.0, 338.0]]}
    assert (g1.group, g2.group) == (1, 1) and box.group is None
    assert mask.kind == "mask" and (mask.mask_x, mask.mask_y) == (400, 300) and int(mask.mask.sum()) == 5
    assert ell.shape["type"] == "ellipse" and len(ell.polygon) == 64
    # CVAT out, CVAT in again (into a second project): the same labels
    out = tmp_path / "out"
    r = exporter("cvat")(p, out)
    assert r["shapes"] == 5
    xml = (out / "annotations.xml").read_text()
    assert "<box " in xml and "<ellipse " in xml and 'group_id="1"' in xml and 'rle="3, 5"' in xml
    q = Project.create(tmp_path / "q", image_root=str(p.image_root))
    try:
        importer("cvat")(q, out)
        assert snapshot_digest(q) == snapshot_digest(p)
        assert [r.shape for r in q.store.regions(q.images()[0].id)] == [r.shape for r in regs]
    finally:
        q.close()


@pytest.mark.parametrize("mutate,msg", [
    (lambda x: x.replace('rle="3, 5"', 'rle="3, 9"'), "runs cover 12 pixels, the mask box has 8"),
    (lambda x: x.replace('xbr="313.00"', 'xbr="3130"'), "outside the 500x338 image"),
    (lambda x: x.replace('label="knife" source="manual" occluded="0" xtl', 'source="manual" occluded="0" xtl'),
     "attribute 'label' missing"),
    (lambda x: x.replace("<annotations>", '<!DOCTYPE a [<!ENTITY x "y">]><annotations>'), "DOCTYPE"),
    (lambda x: x.replace("</annotations>", ""), "malformed XML"),
    (lambda x: x.replace('name="scans/bag1.png"', 'name="../../etc/passwd"'), "climbs out"),
    (lambda x: x.replace('width="500" height="338"', 'width="50" height="338"'), "says 50x338"),
    (lambda x: x.replace('label="firearm" source="manual" occluded="0" points="70', 'label="bazooka" '
                         'source="manual" occluded="0" points="70'), "classes not in the taxonomy: bazooka"),
])
def test_bad_cvat_is_refused_in_one_line_and_changes_nothing(bag, tmp_path, mutate, msg):
    p = bag
    before = snapshot_digest(p)
    f = tmp_path / "bad.xml"
    f.write_text(mutate(CVAT_XML))
    with pytest.raises(XwbError, match=msg) as e:
        importer("cvat")(p, f)
    assert "bad.xml" in str(e.value) and "\n" not in str(e.value)
    assert snapshot_digest(p) == before and not p.images()


# -- YOLO --------------------------------------------------------------------------------------------------
def _yolo_dataset(root, names_yaml="names:\n  0: knife\n  1: firearm\n"):
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\n" + names_yaml)
    (root / "labels" / "train" / "bag1.txt").write_text(
        "0 0.5 0.5 0.2 0.3\n"                              # a box: centre and size
        "1 0.1 0.1 0.3 0.1 0.2 0.4\n"                      # a polygon
        "1 0.9 0.9 0.95 0.9 1.0015 0.99\n")                # a vertex 0.75 px right of the border
    return root


@pytest.fixture
def yolo_bag(project):
    (project.image_root / "images" / "train").mkdir(parents=True)
    cv2.imwrite(str(project.image_root / "images" / "train" / "bag1.jpg"), np.full((H, W, 3), 200, np.uint8))
    return project


def test_yolo_as_ultralytics_writes_it(yolo_bag, tmp_path):
    p = yolo_bag
    ds = _yolo_dataset(tmp_path / "ds")
    s = importer("yolo")(p, ds)
    assert s.regions == 3 and s.new_images == 1 and s.clipped == 1
    im = p.images()[0]
    assert im.path == "images/train/bag1.jpg"
    box, poly, edge = p.store.regions(im.id)
    assert np.allclose(box.polygon, [[200, 118.3], [300, 118.3], [300, 219.7], [200, 219.7]])
    assert box.shape["type"] == "rectangle"
    assert np.allclose(poly.polygon, [[50, 33.8], [150, 33.8], [100, 135.2]])
    # YOLO out: a box stays a box, a polygon a polygon, classes numbered as the taxonomy orders them
    out = tmp_path / "out"
    exporter("yolo")(p, out)
    lines = (out / "labels" / "images" / "train" / "bag1.txt").read_text().splitlines()
    k = {c.name: i for i, c in enumerate(p.taxonomy.classes)}
    assert lines[0].split()[0] == str(k["knife"]) and len(lines[0].split()) == 5
    assert np.allclose([float(v) for v in lines[0].split()[1:]], [0.5, 0.5, 0.2, 0.3])
    assert len(lines[1].split()) == 7
    import yaml

    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"][k["firearm"]] == "firearm"
    # ... and back in: the same shapes (to the last bits that normalising to 0..1 and back can cost)
    q = Project.create(tmp_path / "q", image_root=str(p.image_root))
    try:
        importer("yolo")(q, out)
        again = q.store.regions(q.images()[0].id)
        assert [r.shape is not None for r in again] == [True, False, False]
        for a, b in zip(again, (box, poly, edge)):
            assert a.class_id == b.class_id and np.allclose(a.polygon, b.polygon, atol=1e-9)
    finally:
        q.close()


def test_yolo_refusals_name_the_file_and_line(yolo_bag, tmp_path):
    p = yolo_bag
    before = snapshot_digest(p)
    ds = _yolo_dataset(tmp_path / "ds")
    (ds / "labels" / "train" / "bag1.txt").write_text("0 0.5 0.5 0.2 0.3\n7 0.1 0.1 0.2 0.2\n")
    with pytest.raises(XwbError, match=r"bag1.txt: line 2: class 7 is not one of the 2 classes 0..1"):
        importer("yolo")(p, ds)
    (ds / "labels" / "train" / "bag1.txt").write_text("0 0.5 0.5 0.2\n")
    with pytest.raises(XwbError, match="line 1: 3 coordinates"):
        importer("yolo")(p, ds)
    (ds / "labels" / "train" / "other.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (ds / "labels" / "train" / "bag1.txt").write_text("")
    with pytest.raises(XwbError, match="other.txt: no image images/train/other"):
        importer("yolo")(p, ds)
    assert snapshot_digest(p) == before


# -- every format, round trip --------------------------------------------------------------------------------
@st.composite
def _regions(draw):
    from datasets.regions import Region, shape_polygon

    out = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["polygon", "rectangle", "mask"]))
        x, y = draw(st.integers(5, 400)), draw(st.integers(5, 250))
        cls = draw(st.sampled_from([1, 2, 3]))
        if kind == "polygon":
            out.append(Region(cls, polygon=np.array([[x, y], [x + 30.5, y + 2.25], [x + 11.75, y + 40.0]])))
        elif kind == "rectangle":
            pts = np.array([[x, y], [x + draw(st.integers(2, 60)) + 0.5, y + 20.25]])
            out.append(Region(cls, polygon=shape_polygon("rectangle", pts, W, H),
                              shape={"type": "rectangle", "points": pts.tolist()}))
        else:
            m = np.zeros((9, 13), bool)
            m[0, :] = m[:, 0] = m[8, 12] = True
            m[3:6, 4:9] = draw(st.booleans())
            out.append(Region(cls, mask=m, mask_x=x, mask_y=y))
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(regs=_regions(), fmt=st.sampled_from(["coco", "cvat", "labelme"]))
def test_export_import_is_lossless_for_every_shape(bag, tmp_path_factory, regs, fmt):
    p = bag
    empty_project(p)
    p.add_scans([p.image_root / "scans" / "bag1.png"])
    p.store.add_regions(p.images()[0].id, [r.copy() for r in regs])
    out = tmp_path_factory.mktemp(fmt) / ("a.json" if fmt == "coco" else "out")
    exporter(fmt)(p, out)
    if fmt == "labelme":  # labelme's imagePath is relative to the JSON file, which lives under OUT
        shutil.rmtree(out)
        exporter(fmt)(p, p.image_root / "lm", overwrite=True)
        out = p.image_root / "lm"
    q = Project.create(tmp_path_factory.mktemp("q") / "q", image_root=str(p.image_root))
    try:
        importer(fmt)(q, out)
        a = [(r.content_key(), json.dumps(r.shape, sort_keys=True)) for r in p.store.regions(p.images()[0].id)]
        b = [(r.content_key(), json.dumps(r.shape, sort_keys=True)) for r in q.store.regions(q.images()[0].id)]
        assert sorted(a) == sorted(b)
    finally:
        q.close()
        shutil.rmtree(p.image_root / "lm", ignore_errors=True)
