"""``xwb material-check``: flag scans that show a material none of their declared goods are made of.

Needs no model, only dual-energy scans and a few labelled reference scans whose manifests are complete
(see ``datasets.materials``). The references are the labelled scans of the train and val splits of the
reference project (by default the checked project itself) not tagged ``undeclared_goods`` or
``contraband``; the checked scans are every scan of the project or of one split.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from datasets import flags
from datasets.errors import XwbError
from datasets.materials import (
    DEFAULT_PFA,
    MATERIALS,
    REFERENCE_EXCLUDE,
    Calibration,
    calibrate,
    declared_materials,
    material_mix,
    undeclared_materials,
)
from datasets.project import Project


def _mix(p: Project, rec) -> np.ndarray | None:
    """The scan's material mix; None (said on stderr) for a scan the check cannot read."""
    try:
        scan = p.read_scan(rec)
        return material_mix(scan.pixels, scan.meta, where=rec.path)
    except XwbError as e:
        print(f"skipped {e}", file=sys.stderr)
        return None


def _is_reference(rec) -> bool:
    """A labelled train/val scan whose manifest is known complete and made of goods the table knows."""
    return (rec.split in ("train", "val") and rec.status in ("done", "reviewed")
            and not set(rec.tags) & set(REFERENCE_EXCLUDE) and not declared_materials(rec.manifest)[1])


def _calibration(recs_mixes, reference: str | Path, pfa: float) -> Calibration:
    refs = [(mix, declared_materials(rec.manifest)[0]) for rec, mix in recs_mixes
            if mix is not None and _is_reference(rec)]
    if not refs:
        raise XwbError(f"{reference}: no labelled train/val scans with a complete manifest to calibrate on "
                       f"(scans tagged {' or '.join(REFERENCE_EXCLUDE)} are left out)")
    return calibrate([m for m, _ in refs], [d for _, d in refs], pfa)


def reference_calibration(reference: str | Path, pfa: float = DEFAULT_PFA) -> Calibration:
    """Thresholds from another project's complete manifests."""
    with Project.open(reference, readonly=True) as p:
        return _calibration([(rec, _mix(p, rec)) for rec in p.store.images() if _is_reference(rec)], reference, pfa)


def material_check(project_path: str | Path, reference: str | Path | None = None, split: str | None = None,
                   pfa: float = DEFAULT_PFA, out: Path | None = None, quiet: bool = False) -> dict:
    folder = Path(project_path)
    own = reference is None or Path(reference).resolve() == folder.resolve()
    cal = None if own else reference_calibration(reference, pfa)
    truth = flags.synth_truth(folder)
    with Project.open(folder, readonly=True) as p:
        recs = p.store.images()
        # every scan read once: the checked ones, and (own references) the train/val ones that calibrate
        mixes = [(rec, _mix(p, rec)) for rec in recs if not split or rec.split == split or (own and _is_reference(rec))]
    if cal is None:
        cal = _calibration(mixes, folder, pfa)
    rows, failed, unjudged = [], 0, 0
    for rec, mix in mixes:
        if split and rec.split != split:
            continue
        if mix is None:
            failed += 1
            continue
        mats, unknown = declared_materials(rec.manifest)
        found = [] if unknown else undeclared_materials(mix, mats, cal)
        unjudged += bool(unknown)
        row = {"scan": rec.path, "manifest": ";".join(rec.manifest),
               **{m: round(float(v), 4) for m, v in zip(MATERIALS, mix)},
               "undeclared_materials": ";".join(found), "unknown_goods": ";".join(unknown), "flag": int(bool(found))}
        if rec.path in truth:
            row.update(flags.truth_row(truth[rec.path]))
        rows.append(row)
    out = out or folder / "reports" / (f"material-check-{split}.csv" if split else "material-check.csv")
    keys = ["scan", "manifest", *MATERIALS, "undeclared_materials", "unknown_goods", "flag"] + \
        (["truth_flag", "truth"] if truth else [])
    flags.write_csv(out, rows, keys)
    summary = {"scans": len(rows), "flagged": sum(r["flag"] for r in rows), "failed": failed,
               "unjudged": unjudged, "csv": str(out), "thresholds": cal.thresholds, "references": cal.references}
    scored = flags.score(rows)
    if scored:
        summary.update({k: scored[k] for k in ("precision", "recall", "truth_flags", "baselines")})
    if not quiet:
        thr = ", ".join(f"{m} > {t:.3f} ({cal.references[m]} refs)" if t is not None else
                        f"{m} not checked ({cal.references[m]} refs)" for m, t in cal.thresholds.items())
        print(f"undeclared material shares that flag a scan (at most {pfa:.0%} of complete manifests exceed them): "
              f"{thr}")
        line = f"{summary['flagged']}/{summary['scans']} scans flagged"
        if unjudged:
            line += f"; {unjudged} not judged (manifest words the goods table does not know)"
        print(f"{line}; CSV: {out}")
        if scored:
            print(flags.describe(scored))
    return summary


def cmd_material_check(a) -> int:
    s = material_check(a.project, a.reference, a.split, a.pfa, Path(a.out) if a.out else None)
    return 1 if s["failed"] and not s["scans"] else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("material-check", help="flag scans showing a material (organic, inorganic, metal) that "
                                              "none of their declared goods are made of; dual-energy, no model")
    p.add_argument("project")
    p.add_argument("--reference", help="project whose labelled train/val scans set the thresholds (default: PROJECT)")
    p.add_argument("--split", choices=("train", "val", "test"), help="only this split (default: every scan)")
    p.add_argument("--pfa", type=float, default=DEFAULT_PFA,
                   help=f"share of complete manifests allowed to be flagged (default {DEFAULT_PFA})")
    p.add_argument("--out", help="CSV path (default: <project>/reports/material-check.csv)")
    p.set_defaults(func=cmd_material_check)
