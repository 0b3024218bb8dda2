"""Volumes in the store: NIfTI volumes read at native depth, synthetic CT bags with exact voxel masks,
label volumes out, and 2-D formats refusing volumes by name."""
import json

import nibabel as nib
import numpy as np
import pytest

from datasets import digest
from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.scanio import is_scan_file, read_scan
from datasets.synth.ct import HU_OFFSET, voxel_cm
from datasets.synth.ct_project import _outside, make_bag
from workbench.cli import main


def _xwb(*args) -> int:
    return main([str(a) for a in args])


def _nii(path, data, zooms=(0.8, 0.9, 2.5), slope=None, inter=None):
    img = nib.Nifti1Image(data, np.diag([*zooms, 1.0]))
    if slope is not None:
        img.header.set_slope_inter(slope, inter)
    nib.save(img, str(path))


def test_nifti_volume_reads_as_zyx_at_native_depth_memory_mapped(tmp_path):
    xyz = np.random.default_rng(1).integers(-1024, 3000, (9, 7, 5)).astype(np.int16)  # NIfTI order: x, y, z
    _nii(tmp_path / "ct.nii", xyz, slope=1.0, inter=-1024.0)
    s = read_scan(tmp_path / "ct.nii")
    assert (s.axes, s.pixels.shape, s.pixels.dtype, s.info.depth) == ("zyx", (5, 7, 9), np.int16, 5)
    np.testing.assert_array_equal(s.pixels, xyz.transpose(2, 1, 0))  # the stored integers, not rescaled
    assert s.info.spacing == pytest.approx((2.5, 0.9, 0.8)) and s.meta["rescale"] == (1.0, -1024.0)
    assert isinstance(s.pixels.base, np.memmap)  # a view of the file: opening copies nothing
    assert s.info.describe() == "16-bit gray zyx 5x9x7"
    (tmp_path / "ct.vol").write_bytes((tmp_path / "ct.nii").read_bytes())  # no suffix: known by its header
    assert read_scan(tmp_path / "ct.vol").pixels.shape == (5, 7, 9)


def test_gzipped_and_dual_energy_nifti_and_refusals(tmp_path):
    xyzc = np.random.default_rng(2).integers(0, 60000, (8, 6, 4, 2)).astype(np.uint16)
    _nii(tmp_path / "dual.nii.gz", xyzc)
    assert is_scan_file(tmp_path / "dual.nii.gz")
    s = read_scan(tmp_path / "dual.nii.gz")
    assert (s.axes, s.info.layout, s.pixels.shape, s.meta) == ("zyxc", "dual", (4, 6, 8, 2), {})
    np.testing.assert_array_equal(s.pixels[..., 1], xyzc[..., 1].transpose(2, 1, 0))
    with pytest.raises(XwbError, match="dual.nii.gz: --axes yxc does not fit NIfTI"):
        read_scan(tmp_path / "dual.nii.gz", axes="yxc")
    (tmp_path / "broken.nii").write_bytes(b"\0" * 400)
    with pytest.raises(XwbError, match="broken.nii: not a readable NIfTI file") as e:
        read_scan(tmp_path / "broken.nii")
    assert "\n" not in str(e.value)


def test_ct_bags_are_reproducible_with_exact_masks_inside_the_bag():
    shape = (48, 48, 64)
    a, b = make_bag(4, 2, shape, dual=True, streaks=True), make_bag(4, 2, shape, dual=True, streaks=True)
    assert a.volume.tobytes() == b.volume.tobytes() and a.tags == b.tags
    assert make_bag(4, 3, shape).volume.tobytes() != make_bag(4, 2, shape).volume.tobytes()
    assert a.volume.shape == (*shape, 2) and a.volume.dtype == np.uint16
    hu = a.volume.astype(np.float32) - HU_OFFSET
    assert np.median(hu[..., 0][_outside(shape)]) < -900  # air around the bag
    seen = 0
    for i in range(8):
        bag = make_bag(4, i, shape, dual=True)
        vol = bag.volume.astype(np.float32) - HU_OFFSET
        for name, vox, (x, y, z) in bag.regions:
            seen += 1
            box = (slice(z, z + vox.shape[0]), slice(y, y + vox.shape[1]), slice(x, x + vox.shape[2]))
            assert not _outside(shape)[box][vox].any()
            inside = vol[box][vox]
            if name in ("knife", "firearm", "tool"):  # steel: photo-electric absorption, far higher at low kV
                assert inside[:, 1].max() > 2 * inside[:, 0].max() > 2000
        contraband = {c for c, _, _ in bag.regions} - {"bottle", "tool", "laptop"}
        assert ("clear" in bag.tags) == (not contraband)
    assert seen >= 8


def test_synth_ct_project_stores_volumes_exports_label_volumes_and_2d_formats_refuse(tmp_path, capsys):
    p_dir = tmp_path / "ct"
    assert _xwb("synth", p_dir, "--kind", "ct-baggage", "--count", "3", "--seed", "1", "--size", "40x48x64") == 0
    with Project.open(p_dir) as p:
        recs = p.store.images()
        assert all(r.is_volume and (r.depth, r.height, r.width) == (40, 48, 64) for r in recs)
        regs = [r for rec in recs for r in p.store.regions(rec.id)]
        assert regs and all(r.kind == "voxels" for r in regs)
        d0 = digest.snapshot_digest(p)
        rec = next(r for r in recs if p.store.regions(r.id))
        first = p.store.regions(rec.id)[0]
        scan = p.read_scan(rec)
        assert scan.info.spacing == pytest.approx((voxel_cm((40, 48, 64)) * 10,) * 3)
    assert _xwb("export", "nifti", p_dir, tmp_path / "out") == 0
    lab = nib.load(str(tmp_path / "out" / "labels" / rec.path.replace(".nii", ".nii.gz")))
    zyx = np.asarray(lab.dataobj).transpose(2, 1, 0)
    z, y, x = first.mask_z, first.mask_y, first.mask_x
    d, h, w = first.voxels.shape
    assert (zyx[z:z + d, y:y + h, x:x + w][first.voxels] == first.class_id).all()
    assert lab.header.get_zooms() == pytest.approx((voxel_cm((40, 48, 64)) * 10,) * 3)
    assert set(json.loads((tmp_path / "out" / "boxes3d.json").read_text())) == {r.path for r in recs}
    capsys.readouterr()
    assert _xwb("export", "coco", p_dir, tmp_path / "coco") == 1
    assert "coco is 2-D only; nothing was written (volumes export as tdr, nifti)" in capsys.readouterr().err
    assert not (tmp_path / "coco").exists()
    with Project.open(p_dir) as p:  # the digest covers voxels: one voxel less, another dataset
        v = first.voxels.copy()
        v[np.unravel_index(np.flatnonzero(v)[0], v.shape)] = False
        p.store.update_region(first.copy(voxels=v))
        assert digest.snapshot_digest(p) != d0
        p.store.add_region(rec.id, Region(2, box=np.array([1.0, 2, 3, 10, 12, 14])))
    assert _xwb("export", "nifti", p_dir, tmp_path / "out2") == 0
    boxes = json.loads((tmp_path / "out2" / "boxes3d.json").read_text())[rec.path]
    assert boxes == [{"class": "knife", "box": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0], "state": "accepted",
                      "source": "manual", "score": None}]


def test_2d_labels_are_not_imported_onto_a_volume(tmp_path, capsys):
    p_dir = tmp_path / "ct"
    assert _xwb("synth", p_dir, "--kind", "ct-baggage", "--count", "1", "--size", "32x32x48") == 0
    with Project.open(p_dir) as p:
        rec = p.store.images()[0]
        before = len(p.store.regions(rec.id))
    shape = {"label": "knife", "points": [[1, 1], [20, 1], [20, 20]], "shape_type": "polygon"}
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "a.json").write_text(json.dumps({"version": "5.0", "imagePath": f"../ct/{rec.path}", "shapes": [shape],
                                           "imageWidth": 48, "imageHeight": 32}))
    capsys.readouterr()
    assert _xwb("import", "labelme", p_dir, lm) == 1
    err = capsys.readouterr().err
    assert "is a volume (32 slices); this format holds 2-D labels, nothing was imported" in err
    with Project.open(p_dir) as p:
        assert len(p.store.regions(rec.id)) == before

