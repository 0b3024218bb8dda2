"""Files other tools wrote: labelme's border overshoot, labelme 3.x files, labelme2coco output.

The JSON below is what labelme writes (``json.dump(..., indent=2)``, floats of a click position, a vertex a
fraction of a pixel outside the image when the annotator clicked on the border)."""
import json

import cv2
import numpy as np
import pytest

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.formats.coco import import_coco
from datasets.formats.labelme import import_labelme

W, H = 500, 338  # labelme's own example image 2011_000003.jpg


@pytest.fixture
def photo_project(project):
    """A project whose image root holds an 8-bit colour JPEG of labelme's example size."""
    img = np.full((H, W, 3), 200, np.uint8)
    cv2.rectangle(img, (191, 107), (313, 329), (40, 60, 90), -1)
    cv2.imwrite(str(project.image_root / "2011_000003.jpg"), img)
    return project


def _labelme_5(shapes):
    return {"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": "2011_000003.jpg",
            "imageData": None, "imageHeight": H, "imageWidth": W}


def _shape(label, kind, points, group_id=None):
    return {"label": label, "points": points, "group_id": group_id, "description": "", "shape_type": kind,
            "flags": {}, "mask": None}


def _write(folder, name, doc):
    f = folder / name
    f.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    return f


def test_border_overshoot_is_clipped_and_counted(photo_project):
    p = photo_project
    doc = _labelme_5([
        _shape("knife", "rectangle", [[191.0, 107.36900369003689], [313.0, 338.41]]),  # 0.41 px below
        _shape("firearm", "polygon", [[-0.38, 12.5], [60.2, 10.0], [58.0, 70.3], [0.0, 71.0]]),  # 0.38 px left
    ])
    s = import_labelme(p, _write(p.image_root, "2011_000003.json", doc))
    assert s.regions == 2 and s.clipped == 2
    assert "clipped 2 vertices" in s.line()
    regs = p.store.regions(p.images()[0].id)
    allpts = np.concatenate([r.polygon for r in regs])
    assert allpts.min() >= 0 and allpts[:, 0].max() <= W and allpts[:, 1].max() <= H
    assert regs[0].polygon[:, 1].max() == H


def test_really_outside_is_refused_naming_file_and_point(photo_project):
    p = photo_project
    before = snapshot_digest(p)
    _write(p.image_root, "a.json", _labelme_5([_shape("knife", "polygon", [[1, 1], [20, 1], [20, 20]])]))  # fine
    bad = dict(_labelme_5([_shape("knife", "polygon", [[1, 1], [20, 1], [20, H + 1.5]])]))
    sub = p.image_root / "more"
    sub.mkdir()
    import shutil

    shutil.copy(p.image_root / "2011_000003.jpg", sub / "2.jpg")
    bad["imagePath"] = "2.jpg"
    _write(sub, "b.json", bad)
    with pytest.raises(XwbError) as e:
        import_labelme(p, p.image_root)
    msg = str(e.value)
    assert "b.json" in msg and f"(20, {H + 1.5:g})" in msg and "outside the 500x338 image" in msg
    assert "\n" not in msg
    assert snapshot_digest(p) == before and len(p.images(with_sets=False)) == 0


def test_labelme_3_file_without_size_uses_the_images_header(photo_project):
    p = photo_project
    doc = {"flags": {}, "shapes": [{"label": "knife", "line_color": None, "fill_color": None,
                                    "points": [[191, 107], [313, 329]], "shape_type": "rectangle"},
                                   {"label": "knife", "line_color": None, "fill_color": None,
                                    "points": [[365, 83], [500, 333], [400, 300]]}],
           "lineColor": [0, 255, 0, 128], "fillColor": [255, 0, 0, 128],
           "imagePath": "2011_000003.jpg", "imageData": None}
    s = import_labelme(p, _write(p.image_root, "old.json", doc))
    assert s.regions == 2 and s.new_images == 1
    rec = p.images()[0]
    assert (rec.width, rec.height) == (W, H)


def test_zero_area_shapes_are_skipped_with_a_count(photo_project):
    p = photo_project
    doc = _labelme_5([_shape("knife", "polygon", [[1, 1], [10, 10], [20, 20]]),       # collinear
                      _shape("knife", "rectangle", [[5, 5], [5, 40]]),                 # no width
                      _shape("knife", "polygon", [[1, 1], [20, 1], [20, 20]])])
    s = import_labelme(p, _write(p.image_root, "z.json", doc))
    assert s.regions == 1
    assert s.skipped_shapes == {"zero-area polygons": 1, "zero-area rectangles": 1}
    assert "skipped 1 zero-area polygons, 1 zero-area rectangles" in s.line()


def test_labelme2coco_output_with_overshoot_imports(photo_project):
    """labelme2coco copies the clicked vertices into ``segmentation`` unchanged, overshoot included."""
    p = photo_project
    seg = [191.0, 107.4, 313.0, 107.4, 313.0, 338.41, 191.0, 338.41]
    doc = {"info": {"description": None, "version": None}, "licenses": [{"url": None, "id": 0, "name": None}],
           "images": [{"license": 0, "url": None, "file_name": "2011_000003.jpg", "height": H, "width": W,
                       "date_captured": None, "id": 0}],
           "type": "instances",
           "annotations": [{"id": 0, "image_id": 0, "category_id": 1, "segmentation": [seg], "area": 28109.0,
                            "bbox": [191.0, 107.4, 122.0, 231.0], "iscrowd": 0},
                           {"id": 1, "image_id": 0, "category_id": 1, "segmentation": [[1, 1, 5, 5, 9, 9]],
                            "area": 0.0, "bbox": [1, 1, 8, 8], "iscrowd": 0}],
           "categories": [{"supercategory": None, "id": 0, "name": "_background_"},
                          {"supercategory": None, "id": 1, "name": "knife"}]}
    f = p.folder / "annotations.json"
    f.write_text(json.dumps(doc))
    s = import_coco(p, f)
    assert s.regions == 1 and s.clipped == 2 and s.skipped_shapes == {"zero-area polygons": 1}


# -- scans other tools wrote: pydicom's own test files, truncated files ------------------------------------
def _pydicom_files():
    import warnings

    import pydicom.data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "download failures": the bundled files are all we want
        root = pydicom.data.get_testdata_file("CT_small.dcm")
    from pathlib import Path

    return sorted(Path(root).parent.glob("*.dcm"))


@pytest.mark.parametrize("f", _pydicom_files(), ids=lambda f: f.name)
def test_every_pydicom_test_file_is_read_consistently_or_refused_in_one_line(f):
    """What scan_info records must be what read_scan returns; a refusal is one line naming the file."""
    from datasets.scanio import read_scan, scan_info

    try:
        s = read_scan(f)
    except XwbError as e:
        msg = str(e)
        assert msg.startswith(str(f)) and "\n" not in msg and "force=True" not in msg
        return
    assert scan_info(f) == s.info
    assert len(s.info.axes) == s.pixels.ndim
    dims = dict(zip(s.info.axes, s.pixels.shape))
    assert (dims["y"], dims["x"], dims.get("c", 1), dims.get("z", 1)) == \
        (s.info.height, s.info.width, s.info.channels, s.info.depth)
    assert s.info.axes in ("yx", "zyx") or dims["c"] in (2, 3)


@pytest.mark.parametrize("name,why", [
    ("SC_rgb_rle_2frame.dcm", "2 frames of colour pixels"),
    ("examples_ybr_color.dcm", "30 frames of colour pixels"),
    ("MR_truncated.dcm", "less than expected"),
    ("no_meta.dcm", "not a DICOM image"),
    ("JPEG-lossy.dcm", "12-bit precision"),  # the second plugin's reason survives, not just the first line
])
def test_odd_dicom_layouts_are_refused_with_the_real_reason(name, why):
    from datasets.scanio import read_scan

    f = [g for g in _pydicom_files() if g.name == name][0]
    with pytest.raises(XwbError, match=why):
        read_scan(f)


def test_palette_dicom_is_read_as_colour():
    from datasets.scanio import read_scan

    s = read_scan([g for g in _pydicom_files() if g.name == "examples_palette.dcm"][0])
    assert s.info.layout == "rgb" and s.pixels.shape[2] == 3


def test_two_grey_frames_are_dual_energy_only_when_the_file_says_so(tmp_path):
    rng = np.random.default_rng(0)
    from datasets.scanio import read_scan
    from tests.datasets.test_scanio import _dicom

    two = rng.integers(0, 65536, size=(2, 30, 50), dtype=np.uint16)
    _dicom(tmp_path / "dicos.dcm", two)                      # a DICOS image: dual energy
    assert read_scan(tmp_path / "dicos.dcm").info.layout == "dual"
    _dicom(tmp_path / "plain.dcm", two, sop="1.2.840.10008.5.1.4.1.1.7")  # secondary capture, no marker
    with pytest.raises(XwbError, match="without a dual-energy marker"):
        read_scan(tmp_path / "plain.dcm")
    _dicom(tmp_path / "typed.dcm", two, sop="1.2.840.10008.5.1.4.1.1.7", image_type=["ORIGINAL", "PRIMARY", "HIGH"])
    assert read_scan(tmp_path / "typed.dcm").info.layout == "dual"


def _truncate(f, keep=0.5):
    b = f.read_bytes()
    f.write_bytes(b[: int(len(b) * keep)])


def test_broken_files_are_refused_when_added_with_their_reason(project, capfd):
    from datasets.scanio import write_tiff

    a = (np.random.default_rng(0).random((300, 400)) * 65535).astype(np.uint16)
    root = project.image_root / "in"
    root.mkdir()
    cv2.imwrite(str(root / "ok.png"), a)
    cv2.imwrite(str(root / "cut.png"), a)
    cv2.imwrite(str(root / "cut.jpg"), (a >> 8).astype(np.uint8))
    write_tiff(root / "cut.tif", np.zeros((1000, 3000), np.uint16))  # uncompressed: memory-mapped, not decoded
    for n in ("cut.png", "cut.jpg", "cut.tif"):
        _truncate(root / n)
    import shutil

    shutil.copy([g for g in _pydicom_files() if g.name == "MR_truncated.dcm"][0], root / "cut.dcm")
    capfd.readouterr()
    s = project.add_scans([root])
    err = capfd.readouterr().err
    assert s.added == 1 and [r.path for r in project.images()] == ["in/ok.png"]
    failed = {m.split(":", 1)[0].rsplit("/", 1)[-1]: m for m in s.failed}
    assert set(failed) == {"cut.png", "cut.jpg", "cut.tif", "cut.dcm"}
    assert "PNG input buffer is incomplete" in failed["cut.png"]  # libpng's reason, in the message ...
    assert "libpng" not in err                                     # ... not as noise on the terminal
    assert "failed to read 6000000 bytes" in failed["cut.tif"]
    assert all("\n" not in m for m in s.failed)


def test_grey_alpha_png_is_grey_and_rgba_is_rgb(tmp_path):
    from PIL import Image

    from datasets.scanio import read_scan, scan_info

    Image.fromarray(np.arange(30, dtype=np.uint8).reshape(5, 6)).convert("LA").save(tmp_path / "ga.png")
    Image.fromarray(np.zeros((5, 6, 3), np.uint8)).convert("RGBA").save(tmp_path / "rgba.png")
    ga, rgba = read_scan(tmp_path / "ga.png"), read_scan(tmp_path / "rgba.png")
    assert ga.info.layout == "gray" and ga.pixels.shape == (5, 6) and ga.pixels[0, 5] == 5
    assert rgba.info.layout == "rgb" and rgba.pixels.shape == (5, 6, 3)
    assert scan_info(tmp_path / "ga.png") == ga.info and scan_info(tmp_path / "rgba.png") == rgba.info


# -- round trips keep what users drew --------------------------------------------------------------------
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.conftest import empty_project  # noqa: E402

_coord = st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 3))


@st.composite
def _labelme_shapes(draw):
    """Shapes as labelme writes them: every kind with an area, groups, __ignore__, descriptions, flags."""
    shapes = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["polygon", "rectangle", "circle", "mask"]))
        label = draw(st.sampled_from(["knife", "firearm", "__ignore__"]))
        gid = draw(st.one_of(st.none(), st.integers(1, 3)))
        x, y = 20 + draw(_coord) * 400, 20 + draw(_coord) * 260
        if kind == "polygon":
            pts = [[x, y], [x + 30.25, y + 1.5], [x + 12.5, y + 25.75]]
        elif kind == "rectangle":
            pts = [[x + 17.5, y + 9.25], [x, y]]  # as dragged: any corner first
        elif kind == "circle":
            pts = [[x, y], [x + 6.5 + draw(_coord) * 9, y + 3.25]]
        else:
            pts = [[x + 0.6, y + 0.3], [x + 0.6 + 7, y + 0.3 + 4]]  # corners with a fraction, 8x5 pixels
        s = _shape(label, kind, pts, gid)
        s["description"] = draw(st.sampled_from(["", "under the laptop"]))
        if kind == "mask":
            import base64
            import io

            from PIL import Image

            m = np.zeros((5, 8), np.uint8)
            m[0, 0] = m[4, 7] = 1  # touches both corners: the mask is its own tight box
            m[1:4, 2:6] = 1
            buf = io.BytesIO()
            Image.fromarray(m * 255).convert("1").save(buf, format="PNG")
            s["mask"] = base64.b64encode(buf.getvalue()).decode()
        shapes.append(s)
    return shapes


def _canon(doc):
    """What a labelme file says about its shapes, independent of group numbering and of xwb's extras."""
    groups: dict = {}
    out = []
    for s in doc["shapes"]:
        g = s.get("group_id")
        g = None if g is None else groups.setdefault((s["label"], g), len(groups))
        out.append((s["label"], s["shape_type"], json.dumps(s["points"]), g, s.get("description", ""),
                    s.get("mask")))
    return sorted(out, key=str)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=_labelme_shapes())
@example(shapes=[{"label": "knife", "points": [[133.0, 279.0], [140.0, 283.0]], "group_id": None, "description": "",
                  "shape_type": "mask", "flags": {},
                  "mask": "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAFAQAAAABQ6pD4AAAAEklEQVR4nGNoYLBhYmBiYGAE"
                          "AAZDAMJniezgAAAAAElFTkSuQmCC"}])  # integral corners: written back as floats, as labelme
def test_labelme_import_export_import_keeps_every_shape(photo_project, tmp_path_factory, shapes):
    from datasets.formats.coco import export_coco
    from datasets.formats.labelme import export_labelme
    from datasets.project import Project

    p = photo_project
    empty_project(p)  # each example starts from an empty project
    src = _labelme_5(shapes)
    _write(p.image_root, "2011_000003.json", src)
    import_labelme(p, p.image_root / "2011_000003.json")
    out = tmp_path_factory.mktemp("lm")
    export_labelme(p, out)
    back = json.loads((out / "2011_000003.json").read_text())
    assert _canon(back) == _canon(src)
    # ... and through COCO into a second project, then labelme again: still the same shapes
    coco = tmp_path_factory.mktemp("coco") / "c.json"
    export_coco(p, coco)
    q = Project.create(tmp_path_factory.mktemp("q") / "q", image_root=str(p.image_root))
    try:
        import_coco(q, coco)
        out2 = tmp_path_factory.mktemp("lm2")
        export_labelme(q, out2)
        again = json.loads(next(out2.rglob("*.json")).read_text())
        assert _canon(again) == _canon(src)
        assert snapshot_digest(q) == snapshot_digest(p)
    finally:
        q.close()


def test_ignore_areas_are_left_out_of_training_labels_and_coco_marks_them_crowd(photo_project, tmp_path):
    from datasets.formats.coco import export_coco
    from datasets.regions import IGNORE_LABEL, label_map

    p = photo_project
    doc = _labelme_5([_shape("knife", "rectangle", [[10, 10], [60, 40]]),
                      _shape("__ignore__", "polygon", [[30, 20], [90, 20], [90, 80], [30, 80]])])
    import_labelme(p, _write(p.image_root, "i.json", doc))
    im = p.images()[0]
    regs = p.store.regions(im.id)
    assert [r.ignore for r in regs] == [False, True] and regs[1].class_id == 0
    lm = label_map(regs, im.width, im.height)
    assert lm[25, 50] == IGNORE_LABEL and lm[15, 15] == p.taxonomy.by_name("knife").id
    export_coco(p, tmp_path / "c.json")
    c = json.loads((tmp_path / "c.json").read_text())
    crowd = [a for a in c["annotations"] if a["iscrowd"] == 1]
    assert len(crowd) == 1 and {"id": 0, "name": "__ignore__", "supercategory": "ignore"} in c["categories"]


def test_ignore_pixels_count_neither_as_hits_nor_false_alarms():
    from datasets.regions import IGNORE_LABEL
    from training.evaluation.metrics import SegAccumulator

    truth = np.zeros((4, 4), np.uint8)
    truth[:2] = IGNORE_LABEL
    probs = np.zeros((2, 4, 4), np.float32)
    probs[0] = 1
    probs[:, :2] = [[[0.0]], [[1.0]]]  # confident "knife" inside the ignore area only
    acc = SegAccumulator(["knife"])
    acc.add(probs, truth)
    assert acc.confusion.sum() == 8 and acc.confusion[0, 1] == 0  # no false alarm counted
    assert acc.scores[0][0] == 0.0                                  # nor an image-level score from there


def test_a_multi_part_coco_object_stays_one_object(photo_project, tmp_path):
    """COCO's one object in two polygons imports as a group of two polygons and exports as one annotation,
    which pycocotools reads as the same pixels."""
    from pycocotools.coco import COCO

    from datasets.formats.coco import export_coco

    p = photo_project
    parts = [[10, 10, 40, 10, 40, 30, 10, 30], [60, 10, 90, 10, 75, 40]]
    doc = {"images": [{"id": 7, "file_name": "2011_000003.jpg", "width": W, "height": H}],
           "categories": [{"id": 3, "name": "knife"}],
           "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "segmentation": parts, "iscrowd": 0,
                            "area": 0, "bbox": [10, 10, 80, 30]},
                           {"id": 2, "image_id": 7, "category_id": 3, "iscrowd": 1, "area": 0, "bbox": [0, 0, 1, 1],
                            "segmentation": [[100, 100, 150, 100, 150, 150, 100, 150]]}]}
    (tmp_path / "in.json").write_text(json.dumps(doc))
    import_coco(p, tmp_path / "in.json")
    regs = p.store.regions(p.images()[0].id)
    assert [(r.kind, r.group, r.ignore) for r in regs] == [("polygon", 1, False), ("polygon", 1, False),
                                                            ("polygon", None, True)]
    export_coco(p, tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text())
    assert [len(a["segmentation"]) for a in out["annotations"]] == [2, 1]
    assert [a["iscrowd"] for a in out["annotations"]] == [0, 1]
    a, b = COCO(str(tmp_path / "in.json")), COCO(str(tmp_path / "out.json"))
    assert np.array_equal(a.annToMask(a.anns[1]), b.annToMask(b.anns[1]))
