"""Bootstrap intervals and paired differences: the fast figures agree with sklearn/metrics.py, intervals
cover the point, a real difference is told from noise, and small splits are named."""
import math

import numpy as np
import pytest

from training.evaluation import bootstrap as B
from training.evaluation.metrics import SegAccumulator, ap_auroc, pd_at_pfa


def test_fast_figures_equal_the_reference_ones_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        s = np.round(rng.random(n), 1)          # many ties
        y = rng.random(n) < 0.3
        if y.all() or not y.any():
            continue
        ap, auc = ap_auroc(s, y)
        assert B._ap(s, y) == pytest.approx(ap) and B._auroc(s, y) == pytest.approx(auc)
        assert B._pd(s, y, 0.05) == pytest.approx(pd_at_pfa(s, y, 0.05)[0])


def seg_sample(n: int, hit: float, seed: int) -> B.Sample:
    """n scans, one class; each scan 100 truth pixels of which ``hit`` are found (noisy), few false alarms."""
    rng = np.random.default_rng(seed)
    acc = SegAccumulator(["knife"])
    for _ in range(n):
        truth = np.zeros((20, 20), np.uint8)
        truth[:10, :10] = 1
        probs = np.zeros((2, 20, 20), np.float32)
        probs[0] = 1
        found = rng.random((10, 10)) < hit
        probs[1, :10, :10][found] = 1
        probs[0, :10, :10][found] = 0
        acc.add(probs, truth)
    return B.Sample.of(acc.result())


def test_mIoU_on_all_scans_equals_the_accumulator_and_the_interval_covers_it():
    smp = seg_sample(30, 0.6, 0)
    full = B.figure("mIoU", smp, np.arange(smp.n))
    assert full == pytest.approx(smp.counts[:, 0, 0].sum() / (smp.counts[:, :, 0].sum()))
    i = B.interval("mIoU", smp, n_boot=300)
    assert i.lo <= i.value <= i.hi and i.hi - i.lo < 0.1
    wide = B.interval("mIoU", seg_sample(4, 0.6, 0), n_boot=300)
    assert wide.hi - wide.lo > 0  # fewer scans: an interval, however it falls


def test_paired_difference_tells_a_real_gain_from_noise():
    a, b = seg_sample(30, 0.8, 0), seg_sample(30, 0.5, 0)
    d = B.paired("mIoU", a, b, n_boot=300)
    assert d.delta > 0.2 and d.verdict == "better" and d.lo > 0
    assert B.paired("mIoU", b, a, n_boot=300).verdict == "worse"
    same = B.paired("mIoU", a, seg_sample(30, 0.8, 1), n_boot=300)  # same skill, other noise
    assert same.verdict == "within noise"
    noc_a = B.Sample(objects={"NoC85": [3, 4, 5, 3, 4, 5] * 5, "NoC90": [5] * 30, "IoU_c1": [0.5] * 30,
                              "IoU_c3": [0.8] * 30, "class": ["knife"] * 30})
    noc_b = B.Sample(objects={**noc_a.objects, "NoC85": [9, 10, 11, 9, 10, 11] * 5})
    assert B.paired("NoC85", noc_a, noc_b, n_boot=300).verdict == "better"  # fewer clicks is better


def test_small_split_notes_name_what_is_weak():
    smp = B.Sample(scores=np.random.default_rng(0).random((7, 3)),
                   present=np.array([[1, 0, 0]] * 3 + [[0, 0, 0]] * 4, bool))
    notes = B.small_split_notes(smp, ["gun", "knife", "ivory"])
    assert any("knife, ivory" in n and "no scan" in n for n in notes)
    assert any("PFA 1 % needs ≥ 100" in n for n in notes) and any("PFA 5 % needs ≥ 20" in n for n in notes)
    assert any("fewer than 5 scans hold gun" in n for n in notes)
    assert math.isnan(B.figure("mAUROC", smp, np.arange(7))) is False


def test_operating_point_keeps_the_false_alarm_rate_on_its_split():
    from training.evaluation.metrics import at_thresholds, operating_point

    rng = np.random.default_rng(3)
    present = rng.random((400, 3)) < 0.3
    present[:, 2] = False                                  # a class the split cannot place
    scores = np.where(present, rng.beta(5, 2, present.shape), rng.beta(2, 5, present.shape))
    op = operating_point(scores, present, ["a", "b", "c"], 0.05, 0.5)
    assert op["placed"] == ["a", "b"] and op["thresholds"]["c"] == 0.5
    for c, name in enumerate("ab"):
        t = op["thresholds"][name]
        neg = scores[~present[:, c], c]
        assert (neg > t).mean() <= 0.05 and (neg >= t).mean() > 0.05 - 1 / len(neg)  # as far as it may go
        assert op["pd"][name] == pytest.approx(pd_at_pfa(scores[:, c], present[:, c], 0.05)[0])
    m = at_thresholds(scores[:, :2], present[:, :2], ["a", "b"], op["thresholds"])
    assert m["PFA"] <= 0.05 and m["Pd"] == pytest.approx(np.mean([op["pd"]["a"], op["pd"]["b"]]))
    flat_c = (scores[:, 2] > 0.5).mean()                   # the unplaced class alarms at the flat threshold
    assert at_thresholds(scores, present, ["a", "b", "c"], op["thresholds"])["PFA"] == pytest.approx(
        (2 * m["PFA"] + flat_c) / 3)
