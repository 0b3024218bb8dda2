"""``xwb predict`` / ``prelabel`` / ``manifest-check``: a model's output as files, as proposals, as flags."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from datasets import flags
from datasets.calibration import rescale_of, scanner_facts
from datasets.errors import XwbError
from datasets.project import Project
from datasets.safefs import atomic_write
from datasets.scanio import read_scan
from training.evaluation import plots
from training.inference.predict import Prediction, Predictor, load_predictor
from training.versions import registry, tracking

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]  # (scans done, scans in all, a line about the last one)


@dataclass
class PredictSummary:
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def predict_files(model_uri: str, scans: list[str], out: Path, batch: int = 4, device: str | None = None,
                  probs: bool = False, tracking_uri: str | None = None, project: str | None = None,
                  min_area: int = 16) -> PredictSummary:
    uri = tracking_uri or (tracking.resolve_uri(None, Path(project)) if project else None)
    tracking.quiet_mlflow()
    with tracking.using(uri):
        ref = registry.resolve(model_uri) if model_uri.startswith("models:/") else registry.VersionRef(None, None, model_uri)
        pred = load_predictor(ref.uri, device)
    pred.task_type.check_batch_use()
    out.mkdir(parents=True, exist_ok=True)
    thr = pred.thresholds
    summary = PredictSummary()
    for s in scans:
        path = Path(s)
        try:
            scan = read_scan(path)
            p = pred.predict_scan(scan, batch=batch)
        except Exception as e:  # one scan the model cannot use must not cost the rest of the batch
            print(f"skipped {_why(e, path)}", file=sys.stderr)
            summary.failed.append(str(path))
            continue
        summary.written += _write_prediction(pred, ref, scan, p, out / path.stem, thr, probs, min_area)
        print(f"{path.name}: {', '.join(p.detected(thr)) or 'nothing detected'} ({p.seconds:.2f} s)")
    return summary


def _write_prediction(pred: Predictor, ref, scan, p: Prediction, stem: Path, thr: dict, probs: bool,
                      min_area: int) -> list[Path]:
    doc = {"scan": str(scan.path), "model": ref.uri, "task": pred.task, "seconds": round(p.seconds, 3),
           "threshold": thr, "scores": p.scores, "detected": p.detected(thr)}
    if scan.info.is_volume:  # the volume's top-down radiograph, as a line scanner would show the bag
        from datasets.projection import radiograph8

        mm = (scan.info.spacing or (4.0, 4.0, 4.0))[1]
        rgb = np.repeat(radiograph8(scan.voxels()[..., 0], "y", rescale_of(scan.meta), mm / 10)[..., None], 3, 2)
    else:
        i0, dark = scanner_facts(scan.meta, scan.info.channels, scan.info.bit_depth)
        rgb = plots.scan_rgb(scan.pixels, i0, dark, scan.meta.get("regime", "kv"))
    files, pic = pred.task_type.write_prediction(pred, p, rgb, stem, doc, thr, probs, min_area)
    files.append(atomic_write(stem.with_suffix(".overlay.png"), png(pic[..., ::-1])))
    files.append(atomic_write(stem.with_suffix(".json"), json.dumps(doc, indent=1)))
    return files


def _why(e: Exception, where) -> str:
    """One line for a scan that was skipped: the reason as said (an XwbError names the file already), or an
    unexpected error with its type, logged with its traceback for a bug report."""
    if isinstance(e, XwbError):
        msg = str(e)
        return msg if Path(str(where)).name in msg.split(": ", 1)[0] else f"{where}: {msg}"
    log.warning("unexpected error on %s", where, exc_info=e)
    return f"{where}: cannot use this scan ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"


def png(a: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", a)
    if not ok:
        raise XwbError(f"cannot encode a {a.shape} {a.dtype} image as PNG")
    return buf.tobytes()


def targets(p: Project, images: list[str] | None, status: str | None):
    """The scans a batch command works on: ``images`` (ids or paths), else those of ``status``; "new" means
    unlabelled too (no accepted region). Prelabel, the labelling queue and the Models panel share it."""
    if images:
        out = []
        for key in images:
            rec = None
            if key.isdigit():
                try:
                    rec = p.store.image(int(key))
                except XwbError:
                    rec = None
            if rec is None:
                iid = p.store.image_id_by_path(key) or p.store.image_id_by_path(p.relpath(key))
                rec = p.store.image(iid) if iid else None
            if rec is None:
                raise XwbError(f"--images {key}: not an image id or path of {p.name}")
            out.append(rec)
        return out
    recs = p.store.images(status=status) if status else p.store.images()
    labelled = set(p.store.region_classes_by_image("accepted"))
    return [r for r in recs if r.id not in labelled] if status == "new" else recs


def _open_model(model_uri: str, folder: Path, tracking_uri: str | None, device: str | None):
    """(version ref, predictor) from the project's MLflow store (or ``tracking_uri``)."""
    uri = tracking.resolve_uri(tracking_uri, folder)
    tracking.quiet_mlflow()
    with tracking.using(uri):
        tracking.check_server(uri)
        ref = registry.resolve(model_uri)
        pred = load_predictor(ref.uri, device)
    pred.task_type.check_batch_use()  # before any scan is read
    return ref, pred


def prelabel(model_uri: str, project_path: str | Path, images: list[str] | None = None, status: str | None = "new",
             tracking_uri: str | None = None, device: str | None = None, min_area: int = 16,
             quiet: bool = False, min_score: float | None = None) -> dict:
    """Write the model's output as proposals (source ``model:<name>/<version>``) for annotators to review."""
    folder = Path(project_path)
    ref, pred = _open_model(model_uri, folder, tracking_uri, device)
    with Project.open(folder) as p:
        registry.check_taxonomy(pred.spec, p, model_uri)
        thr = pred.thresholds if min_score is None else min_score
        recs = targets(p, images, None if images else status)
        if quiet:
            return prelabel_scans(pred, ref.source, p, recs, thr, min_area)

        def show(done: int, total: int, line: str) -> None:
            if not line.startswith("skipped "):  # (prelabel_scans says skips on stderr itself)
                print(line)
        return prelabel_scans(pred, ref.source, p, recs, thr, min_area, progress=show)


def prelabel_scans(pred: Predictor, source: str, p: Project, recs: list, threshold: float | dict[str, float],
                   min_area: int = 16,
                   progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> dict:
    """Proposals of ``pred`` (written as ``source``) for ``recs`` of an open project, one scan at a time: each
    scan's proposals replace that model's earlier ones in one transaction, so a cancel between scans leaves
    every scan either done or untouched. ``progress(done, total, line)`` follows it; ``cancelled()`` is
    asked before each scan. The workbench's Models panel runs this in a background thread."""
    counts = {"scans": 0, "regions": 0, "tags": 0, "failed": 0, "cancelled": False}
    task = pred.task_type
    task.check_batch_use()
    for i, rec in enumerate(recs):
        if cancelled is not None and cancelled():
            counts["cancelled"] = True
            break
        try:
            out = pred.predict_scan(p.read_scan(rec))
        except Exception as e:  # skip what the model cannot use, go on with the rest
            why = _why(e, rec.path)
            print(f"skipped {why}", file=sys.stderr)
            counts["failed"] += 1
            if progress is not None:
                progress(i + 1, len(recs), f"skipped {why}")
            continue
        line, n = task.propose(p, rec, out, pred.spec, source, threshold, min_area)
        counts["regions" if task.labels == "classes" else "tags"] += n
        counts["scans"] += 1
        if progress is not None:
            progress(i + 1, len(recs), f"{rec.path}: {line}")
    return counts


def manifest_check(model_uri: str, project_path: str | Path, out: Path | None = None, split: str | None = None,
                   tracking_uri: str | None = None, device: str | None = None, min_area: int = 16,
                   quiet: bool = False) -> dict:
    """Flag scans whose content the declared manifest does not cover; score the flags where truth is known."""
    folder = Path(project_path)
    ref, pred = _open_model(model_uri, folder, tracking_uri, device)
    truth = flags.synth_truth(folder)
    rows, failed = [], 0
    with Project.open(folder, readonly=True) as p:
        registry.check_taxonomy(pred.spec, p, model_uri)
        task = pred.task_type
        tax = p.taxonomy
        thr = pred.thresholds
        for rec in p.store.images(split=split) if split else p.store.images():
            try:
                res = pred.predict_scan(p.read_scan(rec))
            except Exception as e:
                print(f"skipped {_why(e, rec.path)}", file=sys.stderr)
                failed += 1
                continue
            declared = {m.lower() for m in rec.manifest}
            found = task.found(res, pred.spec, thr, min_area)
            # a class may be declared under its own name or a manifest word the taxonomy gives it
            undeclared = [c for c in found if c.lower() not in declared and not (
                tax.has_name(c) and {w.lower() for w in tax.by_name(c).declared_as} & declared)]
            row = {"scan": rec.path, "manifest": ";".join(rec.manifest), "found": ";".join(found),
                   "undeclared": ";".join(undeclared), "flag": int(bool(undeclared))}
            if rec.path in truth:
                row.update(flags.truth_row(truth[rec.path]))
            rows.append(row)
    out = out or folder / "reports" / f"manifest-check-{ref.name or 'model'}-v{ref.version or ''}.csv"
    keys = ["scan", "manifest", "found", "undeclared", "flag"] + (["truth_flag", "truth"] if truth else [])
    flags.write_csv(out, rows, keys)
    summary = {"scans": len(rows), "flagged": sum(r["flag"] for r in rows), "failed": failed, "csv": str(out)}
    scored = flags.score(rows)
    if scored:
        summary.update({k: scored[k] for k in ("precision", "recall", "truth_flags", "baselines")})
    if not quiet:
        line = f"{summary['flagged']}/{summary['scans']} scans flagged; CSV: {out}"
        if scored:
            line += "\n" + flags.describe(scored)
        print(line)
    return summary


