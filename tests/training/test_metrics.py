"""Screening metrics on cases worked out by hand."""
import math

import numpy as np
import pytest

from training.evaluation.metrics import ClsAccumulator, SegAccumulator, pd_at_pfa


def test_pd_at_pfa_by_hand():
    # 100 clear scans scoring 0.00..0.99, 4 threat scans
    neg = np.arange(100) / 100
    pos = np.array([0.995, 0.985, 0.975, 0.5])
    s = np.concatenate([neg, pos])
    y = np.r_[np.zeros(100, bool), np.ones(4, bool)]
    pd1, thr1 = pd_at_pfa(s, y, 0.01)   # one false alarm allowed: threshold at the 2nd highest clear score
    assert thr1 == pytest.approx(0.98) and pd1 == pytest.approx(2 / 4)
    pd5, thr5 = pd_at_pfa(s, y, 0.05)
    assert thr5 == pytest.approx(0.94) and pd5 == pytest.approx(3 / 4)
    # fewer clear scans than 1/PFA: no false alarm allowed at all
    pd, thr = pd_at_pfa(np.array([0.2, 0.9, 0.95]), np.array([False, True, False]), 0.01)
    assert thr == 0.95 and pd == 0.0
    assert math.isnan(pd_at_pfa(np.array([0.1]), np.array([False]), 0.05)[0])


def test_seg_iou_dice_and_detection():
    acc = SegAccumulator(["gun", "knife"])
    truth = np.zeros((4, 4), np.uint8)
    truth[:2, :2] = 1                      # 4 px of gun
    probs = np.zeros((3, 4, 4), np.float32)
    probs[0] = 1
    probs[:, :2, :1] = [[[0]], [[1]], [[0]]]  # predicts gun on 2 of the 4 px
    probs[:, 3, 3] = [0, 0.1, 0.9]        # a false knife pixel
    acc.add(probs, truth)
    r = acc.result()
    assert r["per_class"]["gun"]["IoU"] == pytest.approx(2 / 4)
    assert r["per_class"]["gun"]["Dice"] == pytest.approx(2 * 2 / (2 * 2 + 0 + 2))
    assert math.isnan(r["per_class"]["knife"]["IoU"])  # no knife anywhere: not counted in the mean
    assert r["headline"]["mIoU"] == pytest.approx(0.5)
    assert r["confusion"][1][1] == 2 and r["confusion"][0][2] == 1


def test_cls_ap_and_confusion():
    acc = ClsAccumulator(["weapon"])
    for s, t in [(0.9, 1), (0.8, 1), (0.7, 0), (0.2, 0), (0.1, 0)]:
        acc.add(np.array([s]), np.array([t]))
    r = acc.result()
    assert r["per_class"]["weapon"]["AP"] == pytest.approx(1.0)
    assert r["per_class"]["weapon"]["AUROC"] == pytest.approx(1.0)
    assert r["confusion"][0] == [[2, 1], [0, 2]]
