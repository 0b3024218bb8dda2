"""Scan flags scored against the synthetic truth, beside the flags one gets without looking.

``xwb manifest-check`` (a model) and ``xwb material-check`` (dual-energy physics) both flag scans whose
content the manifest does not cover. Where the project is synthetic (``synth.json``) the flags are scored:
precision and recall, and the same for flagging every scan and for flagging as many at random, so a
check is judged against what costs nothing.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from datasets.safefs import atomic_write


def synth_truth(folder: Path) -> dict:
    """scan path -> what the generator put in it; {} for a project of real scans."""
    f = Path(folder) / "synth.json"
    if not f.is_file():
        return {}
    try:
        return json.loads(f.read_text()).get("scans", {})
    except (OSError, ValueError):
        return {}


def truth_row(t: dict) -> dict:
    """The truth columns of a flag row: does the scan carry contraband or undeclared goods, and which."""
    return {"truth_flag": int(bool(t.get("contraband") or t.get("undeclared_goods"))),
            "truth": ";".join(t.get("contraband", []) + [f"undeclared:{g}" for g in t.get("undeclared_goods", [])])}


def score(rows: list[dict], key: str = "flag") -> dict:
    """precision, recall and the baselines of rows that carry ``truth_flag``; {} when none does."""
    scored = [r for r in rows if "truth_flag" in r]
    if not scored:
        return {}
    tp = sum(bool(r[key]) and r["truth_flag"] for r in scored)
    fp = sum(bool(r[key]) and not r["truth_flag"] for r in scored)
    fn = sum(not r[key] and r["truth_flag"] for r in scored)
    nan = float("nan")
    base = (tp + fn) / len(scored)
    rate = (tp + fp) / len(scored)
    return {"precision": tp / (tp + fp) if tp + fp else nan, "recall": tp / (tp + fn) if tp + fn else nan,
            "truth_flags": tp + fn, "flagged": tp + fp, "scored": len(scored),
            # what the flags are worth against flagging without looking: every scan, or as many at random
            "baselines": {"flag_everything": {"precision": base, "recall": 1.0 if tp + fn else nan},
                          "random_same_rate": {"precision": base, "recall": rate}}}


def describe(s: dict) -> str:
    """Two lines: the flags against the truth, and the baselines."""
    b = s["baselines"]
    return (f"against the synthetic truth ({s['truth_flags']} of {s['scored']} scans carry contraband or undeclared "
            f"goods): flag precision {s['precision']:.2f}, recall {s['recall']:.2f}"
            f"\nbaselines: flag every scan: precision {b['flag_everything']['precision']:.2f}, recall "
            f"{b['flag_everything']['recall']:.2f}; flag as many at random ({s['flagged']}): precision "
            f"{b['random_same_rate']['precision']:.2f}, recall {b['random_same_rate']['recall']:.2f} (expected)")


def write_csv(out: Path, rows: list[dict], keys: list[str]) -> None:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, keys, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write(out, buf.getvalue())
