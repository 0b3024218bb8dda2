"""Slices and projections of a CT volume: what the volume views and a volume's report picture show."""
import numpy as np
import pytest

from datasets import projection as P


def _vol():
    rng = np.random.default_rng(0)
    return rng.integers(0, 4000, size=(37, 20, 30), dtype=np.uint16)  # z not a multiple of the slab


@pytest.mark.parametrize("axis", ["z", "y", "x"])
def test_projections_read_by_slabs_equal_the_whole_volume_at_once(axis):
    v = _vol()
    a = P.AXIS[axis]
    dens = np.maximum((v.astype(np.float32) - 1024) / 1000 + 1, 0)
    assert np.allclose(P.project(v, axis, (1.0, -1024.0), "sum", slab=8), dens.sum(axis=a), rtol=1e-5)
    assert np.array_equal(P.project(v, axis, mode="mip", slab=8), v.max(axis=a))


def test_slices_name_their_plane_and_refuse_an_index_outside():
    v = _vol()
    assert np.array_equal(P.slice_of(v, "z", 3), v[3]) and np.array_equal(P.slice_of(v, "y", 4), v[:, 4])
    assert np.array_equal(P.slice_of(v, "x", 29), v[:, :, 29])
    with pytest.raises(IndexError, match="slice 30 of 30 along x"):
        P.slice_of(v, "x", 30)
    with pytest.raises(ValueError, match="axis 'w'"):
        P.project(v, "w")


def test_a_radiograph_is_white_through_air_and_darker_through_more_water():
    v = np.full((10, 8, 8), 24, np.uint16)  # air (HU -1000)
    v[:, 2:6, 2:4] = 1024                   # a water column 4 voxels deep along y
    t = P.radiograph(v, "y", (1.0, -1024.0), voxel_cm=1.0)
    assert t.shape == (10, 8) and np.allclose(t[:, 0], 1.0)
    assert np.allclose(t[:, 2], np.exp(-4 * P.MU_WATER_CM), rtol=1e-4)
    assert P.radiograph8(v, "y", (1.0, -1024.0), 1.0)[0, 0] == 255
