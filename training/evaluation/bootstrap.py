"""How sure a figure is: bootstrap intervals over the scans of a split, and paired differences of versions.

A test split of a few dozen scans makes every figure noisy; "v2 beats v1" by 0.01 mIoU may be luck of the
draw. The scans of a split are resampled with replacement (``N_BOOT`` times, a fixed seed, so a report is
reproducible), each figure is recomputed on each resample from what evaluation kept per scan (pixel counts
per class, image-level scores) or per object (click protocol), and the 2.5 and 97.5 percentiles give a 95 %
interval. Two versions measured on the same scans are compared *paired*: the same resampled scans for both,
so the interval is that of the difference, which is much narrower than the two intervals suggest.

Figures whose split is too small to mean what they say are named by ``small_split_notes``: Pd at PFA 1 %
needs at least 100 scans without a class (with fewer, no false alarm at all is allowed: it is Pd at PFA 0).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

N_BOOT = 1000
SEED = 0
LOWER_IS_BETTER = ("NoC85", "NoC90", "seconds_per_scan")
_PD = re.compile(r"^m?Pd_pfa(\d+(?:_\d+)?)$")


@dataclass
class Sample:
    """What a metric is recomputed from, per unit (scan, or object for click models)."""

    scores: np.ndarray | None = None     # (N, K) image-level scores
    present: np.ndarray | None = None    # (N, K) bool: class in the truth
    counts: np.ndarray | None = None     # (N, 3, K) true pos., false pos., false neg. pixels
    objects: dict | None = None          # click protocol: per object NoC85, NoC90, IoU_c1, IoU_c3, class

    @property
    def n(self) -> int:
        if self.objects is not None:
            return len(self.objects.get("NoC85", []))
        for a in (self.counts, self.scores):
            if a is not None:
                return len(a)
        return 0

    @classmethod
    def of(cls, data: dict) -> Sample:
        """From an evaluation's metrics.json (or ``evaluate_items`` result)."""
        s = np.asarray(data.get("scores", []), np.float64)
        p = np.asarray(data.get("present", []), bool)
        counts = data.get("per_scan", {}).get("tp_fp_fn")
        obj = data.get("per_object")
        return cls(s if s.size else None, p if p.size else None,
                   np.asarray(counts, np.int64) if counts is not None and len(counts) else None, obj)


def better(metric: str, delta: float) -> bool:
    return delta < 0 if metric in LOWER_IS_BETTER else delta > 0


# -- figures recomputed on a resample (fast forms of metrics.py's) --------------------------------------
def _auroc(s: np.ndarray, y: np.ndarray) -> float:
    npos = int(y.sum())
    nneg = len(y) - npos
    if npos == 0 or nneg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ss = s[order]
    # average ranks of ties
    _, first, counts = np.unique(ss, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def _ap(s: np.ndarray, y: np.ndarray) -> float:
    npos = int(y.sum())
    if npos == 0:
        return math.nan
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(ss))[0], len(ss) - 1]  # the end of each run of equal scores
    tps = np.cumsum(yy)[last]
    prec = tps / (last + 1)
    rec = tps / npos
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


def _pd(s: np.ndarray, y: np.ndarray, pfa: float) -> float:
    neg = np.sort(s[~y])[::-1]
    if y.sum() == 0 or len(neg) == 0:
        return math.nan
    allowed = int(math.floor(pfa * len(neg) + 1e-9))
    thr = neg[allowed] if allowed < len(neg) else -math.inf
    return float((s[y] > thr).mean())


def _nanmean(v) -> float:
    v = [x for x in v if not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def per_class(metric: str, smp: Sample, idx: np.ndarray) -> np.ndarray | None:
    """The per-class figure (IoU, Dice, AP, AUROC, Pd_pfaX) on the scans ``idx``; None if not kept."""
    if metric in ("IoU", "Dice"):
        if smp.counts is None:
            return None
        tp, fp, fn = smp.counts[idx].sum(0).astype(np.float64)
        truth = tp + fn
        with np.errstate(invalid="ignore", divide="ignore"):
            v = tp / (tp + fp + fn) if metric == "IoU" else 2 * tp / (2 * tp + fp + fn)
        return np.where(truth > 0, v, np.nan)
    if smp.scores is None or smp.present is None:
        return None
    s, p = smp.scores[idx], smp.present[idx]
    m = _PD.match(metric)
    if metric == "AP":
        return np.array([_ap(s[:, c], p[:, c]) for c in range(s.shape[1])])
    if metric == "AUROC":
        return np.array([_auroc(s[:, c], p[:, c]) for c in range(s.shape[1])])
    if m:
        pfa = float(m[1].replace("_", ".")) / 100
        return np.array([_pd(s[:, c], p[:, c], pfa) for c in range(s.shape[1])])
    return None


def figure(metric: str, smp: Sample, idx: np.ndarray) -> float | None:
    """A headline figure (mIoU, mDice, mAP, mAUROC, mPd_pfaX, NoC85, NoC90, mIoU_c1, mIoU_c3) on the units
    ``idx``; None when evaluation did not keep what it needs."""
    if smp.objects is not None and metric in ("NoC85", "NoC90", "mIoU_c1", "mIoU_c3"):
        key = metric if metric.startswith("NoC") else metric[1:]
        return float(np.mean(np.asarray(smp.objects[key], np.float64)[idx])) if len(idx) else math.nan
    if metric.startswith("m") and not metric.startswith("mIoU_c"):
        v = per_class(metric[1:], smp, idx)
        return None if v is None else _nanmean(v)
    return None


@dataclass
class Interval:
    value: float
    lo: float
    hi: float

    def text(self, nd: int = 3) -> str:
        if math.isnan(self.value):
            return "n/a"
        if math.isnan(self.lo):
            return f"{self.value:.{nd}f}"
        return f"{self.value:.{nd}f} [{self.lo:.{nd}f}, {self.hi:.{nd}f}]"


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def interval(metric: str, smp: Sample, n_boot: int = N_BOOT, seed: int = SEED) -> Interval | None:
    n = smp.n
    point = figure(metric, smp, np.arange(n))
    if point is None:
        return None
    if n < 2:
        return Interval(point, math.nan, math.nan)
    vals = np.array([figure(metric, smp, i) for i in _resamples(n, n_boot, seed)], np.float64)
    vals = vals[~np.isnan(vals)]
    if len(vals) < n_boot // 2:
        return Interval(point, math.nan, math.nan)
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return Interval(point, float(lo), float(hi))


def class_intervals(metric: str, smp: Sample, n_boot: int = N_BOOT, seed: int = SEED) -> list[Interval] | None:
    n = smp.n
    point = per_class(metric, smp, np.arange(n))
    if point is None:
        return None
    boots = np.array([per_class(metric, smp, i) for i in _resamples(n, n_boot, seed)], np.float64)
    out = []
    for c in range(len(point)):
        col = boots[:, c][~np.isnan(boots[:, c])]
        if math.isnan(point[c]) or len(col) < n_boot // 2:
            out.append(Interval(float(point[c]), math.nan, math.nan))
        else:
            lo, hi = np.percentile(col, [2.5, 97.5])
            out.append(Interval(float(point[c]), float(lo), float(hi)))
    return out


@dataclass
class Difference:
    metric: str
    delta: float
    lo: float
    hi: float

    @property
    def verdict(self) -> str:
        """'better', 'worse' (the interval of the difference excludes 0) or 'within noise'."""
        if math.isnan(self.lo):
            return "n/a"
        if self.lo > 0 or self.hi < 0:
            return "better" if better(self.metric, self.delta) else "worse"
        return "within noise"

    def text(self, nd: int = 3) -> str:
        if math.isnan(self.delta):
            return "n/a"
        return f"{self.delta:+.{nd}f} [{self.lo:+.{nd}f}, {self.hi:+.{nd}f}] {self.verdict}"


def paired(metric: str, a: Sample, b: Sample, n_boot: int = N_BOOT, seed: int = SEED) -> Difference | None:
    """The difference a − b on the same resampled units (the two must be measured on the same split)."""
    if a.n != b.n:
        return None
    n = a.n
    pa, pb = figure(metric, a, np.arange(n)), figure(metric, b, np.arange(n))
    if pa is None or pb is None:
        return None
    if n < 2 or math.isnan(pa) or math.isnan(pb):
        return Difference(metric, pa - pb, math.nan, math.nan)
    d = []
    for i in _resamples(n, n_boot, seed):
        x, y = figure(metric, a, i), figure(metric, b, i)
        if not (math.isnan(x) or math.isnan(y)):
            d.append(x - y)
    if len(d) < n_boot // 2:
        return Difference(metric, pa - pb, math.nan, math.nan)
    lo, hi = np.percentile(d, [2.5, 97.5])
    return Difference(metric, pa - pb, float(lo), float(hi))


def small_split_notes(smp: Sample, classes: list[str], pfas=(0.01, 0.05)) -> list[str]:
    """Why some figures of this split mean less than they say (one line each)."""
    notes = []
    if smp.present is None or not len(smp.present):
        return notes
    pos = smp.present.sum(0)
    neg = len(smp.present) - pos
    none = [c for c, k in zip(classes, pos) if k == 0]
    if none:
        notes.append(f"no scan of the split holds {', '.join(none)}: their detection figures are left out of the means")
    for pfa in pfas:
        need = math.ceil(1 / pfa)
        short = [int(k) for k, q in zip(neg, pos) if k < need and q > 0]
        if short:
            have = f"{min(short)}–{max(short)}" if min(short) != max(short) else f"{short[0]}"
            notes.append(f"Pd at PFA {pfa * 100:g} % needs ≥ {need} scans without a class; "
                         f"{len(short)} class(es) have {have}: there it is Pd with no false alarm allowed at all")
    few = [c for c, k in zip(classes, pos) if 0 < k < 5]
    if few:
        notes.append(f"fewer than 5 scans hold {', '.join(few)}: their per-class figures are a handful of scans")
    return notes
