"""Voxel edits of the volume workbench, free of Qt: strokes, fill between slices, grow, painting, objects."""
import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.regions import Region
from datasets.voxel_edit import (
    components3d,
    disk,
    drawn_slices,
    fill_between,
    grow,
    paint,
    paint_volume,
    plane_of,
)

SHAPE = (20, 30, 40)


def test_strokes_on_each_axis_land_on_their_plane_and_erase_to_nothing():
    r = paint(None, SHAPE, "z", 5, disk(2), 10, 8, class_id=3)  # rows y 8.., cols x 10..
    assert r.class_id == 3 and (r.mask_z, r.mask_y, r.mask_x) == (5, 8, 10) and r.voxels.shape == (1, 5, 5)
    r = paint(r, SHAPE, "y", 12, np.ones((3, 4), bool), 0, 6)  # rows z 6..8, cols x 0..3 of coronal slice 12
    assert drawn_slices(r, "z") == [5, 6, 7, 8] and drawn_slices(r, "y") == [8, 9, 10, 11, 12]
    cut = plane_of(r, "y", 12, SHAPE)
    assert cut is not None and cut[0][6 - cut[1], 0] and cut[0].sum() == 12 + (disk(2)[4].sum())
    # a stroke hanging over the border is cut there; erasing everything leaves no region
    r2 = paint(None, SHAPE, "x", 39, np.ones((6, 6), bool), -3, -3)
    assert (r2.mask_z, r2.mask_y, r2.voxels.shape) == (0, 0, (3, 3, 1))
    assert paint(r2, SHAPE, "x", 39, np.ones((6, 6), bool), -3, -3, add=False) is None
    with pytest.raises(XwbError, match="slice 40 is outside"):
        paint(None, SHAPE, "x", 40, disk(1), 0, 0)


def test_fill_between_interpolates_the_shape_and_keeps_the_drawn_slices():
    r = paint(None, SHAPE, "z", 2, disk(3), 10, 10)
    r = paint(r, SHAPE, "z", 10, disk(7), 6, 6)
    filled, n = fill_between(r, "z")
    assert n == 7 and drawn_slices(filled, "z") == list(range(2, 11))
    areas = [int(filled.voxels[i].sum()) for i in range(filled.voxels.shape[0])]
    assert areas[0] == disk(3).sum() and areas[-1] == disk(7).sum()
    assert all(a <= b for a, b in zip(areas, areas[1:]))  # grows from the small disk to the large one
    with pytest.raises(XwbError, match="at least two z slices"):
        fill_between(paint(None, SHAPE, "z", 2, disk(3), 10, 10), "z")


def test_grow_takes_the_connected_voxels_in_the_window_only():
    vol = np.zeros(SHAPE, np.uint16)
    vol[2:6, 3:9, 4:12] = 3000
    vol[10:12, 3:9, 4:12] = 3000  # the same value, not connected
    got = grow(vol, (3, 4, 5), 2500, 3500)
    assert got is not None
    vox, at = got
    assert vox.sum() == 4 * 6 * 8 and at == (4, 3, 2)
    assert grow(vol, (0, 0, 0), 2500, 3500) is None


def test_painting_a_volume_and_finding_its_objects_again():
    lab = np.zeros(SHAPE, np.uint8)
    a = Region(1, voxels=np.ones((3, 4, 5), bool), mask_x=2, mask_y=3, mask_z=4)
    b = Region(2, box=np.array([20, 10, 10, 30, 20, 15.0]))
    paint_volume(lab, a, 1)
    paint_volume(lab, b, 2)
    assert (lab == 1).sum() == 60 and (lab == 2).sum() == 10 * 10 * 5
    crop = np.zeros((4, 4, 4), np.uint8)
    paint_volume(crop, a, 1, at=(5, 5, 5))  # a block of the volume from (z, y, x) = (5, 5, 5)
    assert crop.sum() == 2 * 2 * 2
    probs = np.zeros((3, *SHAPE), np.float32)
    probs[1][lab == 1], probs[2][lab == 2] = 0.9, 0.7
    objs = components3d(lab, probs, ["knife", "drugs"], min_voxels=8)
    assert [(o["class"], o["voxels"], o["at"]) for o in objs] == [("knife", 60, [2, 3, 4]), ("drugs", 500, [20, 10, 10])]
    assert objs[0]["score"] == pytest.approx(0.9)
