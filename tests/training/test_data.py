"""Crops, sampling, augmentation and TIP on real synthetic scans: native depth until the features."""
import numpy as np
import pytest

from datasets.project import Project
from training import tasks
from training.loop import data as D
from training.recipes.config import parse_config


@pytest.fixture
def items(synth):
    with Project.open(synth, readonly=True) as p:
        cfg = parse_config({}, "t")
        names = D.class_names(p, cfg)
        return D.load_items(p, "train", names, tasks.get("seg")), names


def _cfg(**data):
    aug = data.pop("augment", {})
    return parse_config({"data": {"tile": 64, **data}, "augment": aug}, "t")


def test_items_carry_scanner_facts_and_labels(items):
    its, names = items
    assert its and all(it.channels == 2 for it in its)
    assert all(it.i0[0] != 65535 for it in its)  # i0 read from the TIFF, not assumed
    lm = its[0].label_map()
    assert lm.shape == (its[0].height, its[0].width) and lm.max() <= len(names)


def test_crops_are_deterministic_and_keep_uint16(items):
    its, _ = items
    cfg = _cfg(sampling="balanced", positive_fraction=1.0)
    pre = {"channels": ["high", "low"], "mean": [0, 0], "std": [1, 1]}
    ds = D.SegCrops(its, cfg, pre)
    a, la, _ = ds.sample(3)
    b, lb, _ = ds.sample(3)
    assert a.dtype == np.uint16 and a.shape == (64, 64, 2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    ds.set_epoch(1)
    c, _, _ = ds.sample(3)
    assert not np.array_equal(a, c)
    x, y = ds[0]
    assert x.dtype.is_floating_point and tuple(x.shape) == (2, 64, 64) and y.dtype.is_floating_point is False


def test_positive_sampling_finds_rare_contraband(items):
    its, _ = items
    pre = {"channels": ["high"], "mean": [0], "std": [1]}
    share = {}
    for mode in ("uniform", "balanced"):
        ds = D.SegCrops(its, _cfg(sampling=mode, positive_fraction=0.9, augment={"hflip": 0, "vflip": 0}), pre)
        share[mode] = np.mean([ds.sample(i)[1].any() for i in range(60)])
    assert share["balanced"] >= 0.85
    assert share["balanced"] > share["uniform"]


def test_balanced_sampling_evens_out_classes(items):
    its, _ = items
    pre = {"channels": ["high"], "mean": [0], "std": [1]}
    ds = D.SegCrops(its, _cfg(sampling="balanced", positive_fraction=1.0, augment={"hflip": 0, "vflip": 0}), pre)
    seen = {}
    for i in range(150):
        for k in np.unique(ds.sample(i)[1]):
            if k:
                seen[int(k)] = seen.get(int(k), 0) + 1
    present = {k for it in its for k, _ in it.regions}
    assert set(seen) == present  # every class in the split turns up


def test_small_scans_are_padded_with_open_beam(items):
    its, _ = items
    pre = {"channels": ["high"], "mean": [0], "std": [1]}
    ds = D.SegCrops(its, parse_config({"data": {"tile": 320}, "augment": {"hflip": 0, "vflip": 0, "noise": 0,
                                                                           "gain": 0}}, "t"), pre)
    c, lab, it = ds.sample(0)
    assert c.shape[:2] == (320, 320) and it.height < 320
    pad_rows = (c[..., 0] == D.OPEN_BEAM).all(axis=1)
    assert pad_rows.sum() >= 320 - it.height and (lab[pad_rows] == 0).all()


def test_tip_augmentation_adds_labelled_threats(items):
    its, _ = items
    bank = D.threat_bank(its)
    assert bank and all(t.mask.any() for t in bank)
    pre = {"channels": ["high"], "mean": [0], "std": [1]}
    still = {"noise": 0, "gain": 0, "hflip": 0, "vflip": 0}
    plain = D.SegCrops(its, _cfg(sampling="uniform", augment={"tip": 0.0, **still}), pre, bank=bank)
    tip = D.SegCrops(its, _cfg(sampling="uniform", augment={"tip": 1.0, **still}), pre, bank=bank)
    more = 0
    for i in range(20):
        (c0, l0, _), (c1, l1, _) = plain.sample(i), tip.sample(i)
        if (l1 > 0).sum() > (l0 > 0).sum():
            more += 1
            new = (l1 > 0) & (l0 == 0)
            # a projected threat only ever attenuates: fewer counts where it landed
            assert (c1[new].astype(int) <= c0[new].astype(int) + 1).mean() > 0.95
    assert more >= 10


def test_gain_and_noise_stay_in_range():
    from training.loop.data import DetectorGain, QuantumNoise

    img = np.full((32, 32, 2), 65000, np.uint16)
    g = DetectorGain(0.5, p=1.0)
    g.set_random_seed(0)
    out = g(image=img)["image"]
    assert out.dtype == np.uint16 and out.max() <= 65535
    n = QuantumNoise(p=1.0)
    n.set_random_seed(1)
    noisy = n(image=np.full((64, 64, 1), 10000, np.uint16))["image"]
    assert noisy.dtype == np.uint16 and 50 < noisy.astype(float).std() < 300  # ~sqrt(10000) = 100
