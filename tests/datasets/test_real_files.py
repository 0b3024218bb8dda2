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
    assert snapshot_digest(p) == before and p.store.conn.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0


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
    assert s.pixels.ndim == 2 or (s.pixels.ndim == 3 and s.pixels.shape[2] in (2, 3))
    assert s.info.channels == (1 if s.pixels.ndim == 2 else s.pixels.shape[2])


@pytest.mark.parametrize("name,why", [
    ("SC_rgb_rle_2frame.dcm", "2 frames of colour pixels"),
    ("examples_ybr_color.dcm", "30 frames of colour pixels"),
    ("rtdose.dcm", "15 frames"),
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
    from tests.datasets.test_scanio import _dicom
    from datasets.scanio import read_scan

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
