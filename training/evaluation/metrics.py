"""Metrics the way screening systems are judged.

Pixel quality (IoU, Dice) says how well regions are drawn; image-level
detection says what a screener sees: a scan *alarms* for a class when its
score (the highest pixel probability, or the tag probability) exceeds a
threshold. Pd at PFA = x is the share of scans holding the class that alarm
when the threshold is set so that at most x of the scans without it alarm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from datasets.regions import IGNORE_LABEL


def pd_key(pfa: float) -> str:
    """Metric name for Pd at a false-alarm rate: 0.01 -> Pd_pfa1 (MLflow names allow no '@' or '%')."""
    return f"Pd_pfa{pfa * 100:g}".replace(".", "_")


def pd_at_pfa(scores: np.ndarray, positive: np.ndarray, pfa: float) -> tuple[float, float]:
    """(Pd, threshold) at a false-alarm rate no higher than ``pfa``; NaN without positives or negatives."""
    scores = np.asarray(scores, np.float64)
    positive = np.asarray(positive, bool)
    neg = np.sort(scores[~positive])[::-1]
    if positive.sum() == 0 or len(neg) == 0:
        return math.nan, math.nan
    allowed = int(math.floor(pfa * len(neg) + 1e-9))  # false alarms we may raise
    thr = neg[allowed] if allowed < len(neg) else -math.inf  # alarm = score strictly above thr
    return float((scores[positive] > thr).mean()), float(thr)


def operating_point(scores, present, classes: list[str], pfa: float, fallback: float, split: str = "val") -> dict:
    """Per class, the threshold at which at most ``pfa`` of the scans without the class alarm on this split
    (alarm: score strictly above it), with the Pd it reaches there. A class the split cannot place (no scan
    with it, or none without it) keeps ``fallback``. Stored with a model version; its commands use it."""
    S, P = np.asarray(scores, np.float64), np.asarray(present, bool)
    out = {"pfa": pfa, "split": split, "scans": int(len(S)), "fallback": fallback, "thresholds": {}, "pd": {},
           "negatives": {}, "placed": []}
    for c, name in enumerate(classes):
        pd, thr = pd_at_pfa(S[:, c], P[:, c], pfa) if len(S) else (math.nan, math.nan)
        placed = not math.isnan(thr) and math.isfinite(thr)
        out["thresholds"][name] = float(min(max(thr, 0.0), 1.0)) if placed else float(fallback)
        out["pd"][name] = None if math.isnan(pd) else float(pd)
        out["negatives"][name] = int((~P[:, c]).sum()) if len(S) else 0
        if placed:
            out["placed"].append(name)
    return out


def at_thresholds(scores, present, classes: list[str], thresholds: dict[str, float]) -> dict:
    """Mean Pd and PFA over classes when each alarms above its own threshold (NaN where a split has none)."""
    S, P = np.asarray(scores, np.float64), np.asarray(present, bool)
    pds, pfas = [], []
    for c, name in enumerate(classes):
        if not len(S):
            break
        alarm = S[:, c] > thresholds.get(name, 0.5)
        if P[:, c].any():
            pds.append(float(alarm[P[:, c]].mean()))
        if (~P[:, c]).any():
            pfas.append(float(alarm[~P[:, c]].mean()))
    return {"Pd": float(np.mean(pds)) if pds else math.nan, "PFA": float(np.mean(pfas)) if pfas else math.nan}


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(PFA, Pd) points over all thresholds."""
    from sklearn.metrics import roc_curve as sk_roc

    if positive.all() or not positive.any():
        return np.array([0.0, 1.0]), np.array([math.nan, math.nan])
    fpr, tpr, _ = sk_roc(positive.astype(int), scores)
    return fpr, tpr


def ap_auroc(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    positive = np.asarray(positive, bool)
    if not positive.any():
        return math.nan, math.nan
    ap = float(average_precision_score(positive.astype(int), scores))
    auc = float(roc_auc_score(positive.astype(int), scores)) if not positive.all() else math.nan
    return ap, auc


def nanmean(values) -> float:
    v = [x for x in values if x is not None and not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


@dataclass
class SegAccumulator:
    """Pixel confusion over a set of scans plus per-scan, per-class scores for detection."""

    classes: list[str]
    confusion: np.ndarray = field(init=False)
    scores: list[np.ndarray] = field(default_factory=list)    # per scan: (K,) max probability per class
    present: list[np.ndarray] = field(default_factory=list)   # per scan: (K,) class in the ground truth
    counts: list[np.ndarray] = field(default_factory=list)    # per scan: (3, K) true pos., false pos., false neg. px

    def __post_init__(self) -> None:
        k = len(self.classes) + 1
        self.confusion = np.zeros((k, k), np.int64)

    def add(self, probs: np.ndarray, truth: np.ndarray) -> None:
        """probs (K+1, H, W) softmax output; truth (H, W) class indices, IGNORE_LABEL where nobody cares."""
        k = len(self.classes) + 1
        pred = probs.argmax(0)
        valid = truth != IGNORE_LABEL
        if valid.all():
            t, p, flat = truth.astype(np.int64).ravel(), pred.ravel(), probs[1:].reshape(k - 1, -1)
        else:  # "don't care" areas count neither as hits nor as false alarms
            t, p, flat = truth[valid].astype(np.int64), pred[valid], probs[1:][:, valid]
        cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
        self.confusion += cm
        tp = np.diag(cm)
        self.counts.append(np.stack([tp, cm.sum(0) - tp, cm.sum(1) - tp])[:, 1:])  # per scan: the bootstrap's unit
        self.scores.append(flat.max(1) if flat.shape[1] else np.zeros(k - 1))
        self.present.append(np.array([(truth == c).any() for c in range(1, k)]))

    def result(self, pfas=(0.01, 0.05), threshold: float = 0.5) -> dict:
        """Per-class and headline figures; detection figures are threshold-free (Pd at each PFA)."""
        cm = self.confusion.astype(np.float64)
        tp = np.diag(cm)
        fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
        per = {}
        S, P = np.array(self.scores), np.array(self.present)
        for c, name in enumerate(self.classes, start=1):
            denom = tp[c] + fp[c] + fn[c]
            row = {"IoU": tp[c] / denom if cm[c].sum() > 0 else math.nan,
                   "Dice": 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) if cm[c].sum() > 0 else math.nan,
                   "support_px": int(cm[c].sum()), "scans_with": int(P[:, c - 1].sum()) if len(P) else 0}
            if len(S):
                ap, auc = ap_auroc(S[:, c - 1], P[:, c - 1])
                row["AP"], row["AUROC"] = ap, auc
                for pfa in pfas:
                    row[pd_key(pfa)] = pd_at_pfa(S[:, c - 1], P[:, c - 1], pfa)[0]
            per[name] = row
        headline = {"mIoU": nanmean(r["IoU"] for r in per.values()),
                    "mDice": nanmean(r["Dice"] for r in per.values()),
                    "pixel_acc": float(tp.sum() / max(cm.sum(), 1))}
        for pfa in pfas:
            headline["m" + pd_key(pfa)] = nanmean(r.get(pd_key(pfa), math.nan) for r in per.values())
        return {"headline": headline, "per_class": per, "confusion": self.confusion.tolist(),
                "per_scan": {"tp_fp_fn": np.array(self.counts, np.int64).tolist()}}


@dataclass
class ClsAccumulator:
    classes: list[str]
    scores: list[np.ndarray] = field(default_factory=list)
    present: list[np.ndarray] = field(default_factory=list)

    def add(self, probs: np.ndarray, truth: np.ndarray) -> None:
        self.scores.append(np.asarray(probs, np.float64))
        self.present.append(np.asarray(truth) > 0.5)

    def result(self, pfas=(0.01, 0.05), threshold: float = 0.5) -> dict:
        S, P = np.array(self.scores), np.array(self.present)
        per = {}
        for c, name in enumerate(self.classes):
            ap, auc = ap_auroc(S[:, c], P[:, c])
            row = {"AP": ap, "AUROC": auc, "scans_with": int(P[:, c].sum())}
            for pfa in pfas:
                row[pd_key(pfa)] = pd_at_pfa(S[:, c], P[:, c], pfa)[0]
            per[name] = row
        # 2x2 confusion per class at the threshold: [[TN, FP], [FN, TP]]
        conf = [[[int(((S[:, c] <= threshold) & ~P[:, c]).sum()), int(((S[:, c] > threshold) & ~P[:, c]).sum())],
                 [int(((S[:, c] <= threshold) & P[:, c]).sum()), int(((S[:, c] > threshold) & P[:, c]).sum())]]
                for c in range(len(self.classes))]
        headline = {"mAP": nanmean(r["AP"] for r in per.values()),
                    "mAUROC": nanmean(r["AUROC"] for r in per.values())}
        for pfa in pfas:
            headline["m" + pd_key(pfa)] = nanmean(r[pd_key(pfa)] for r in per.values())
        return {"headline": headline, "per_class": per, "confusion": conf}
