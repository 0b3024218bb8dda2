"""``xwb`` subcommands of the training layer (torch is imported only when one runs)."""
from __future__ import annotations

import argparse
import os

from datasets.errors import XwbError


def _offline_hub() -> None:
    """No silent downloads: hub libraries fail fast unless the user allows the network."""
    if os.environ.get("XWB_ALLOW_DOWNLOAD") != "1":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    from training.versions.tracking import quiet_mlflow

    quiet_mlflow()


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="training recipe (YAML), e.g. configs/seg_unet_resnet18.yaml; "
                                             "optional with --resume (the run's own config is used)")
    p.add_argument("--project", required=True, help="project folder")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.epochs=5 (repeatable)")
    p.add_argument("--resume", metavar="RUN_ID", help="continue a stopped run from its last checkpoint; "
                   "--set optim.epochs=N extends it (other changes are refused)")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the project's store)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override runtime.device")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def cmd_train(a) -> int:
    _offline_hub()
    from training.loop.run import train

    if a.config is None and not a.resume:
        raise XwbError("a training recipe is needed, e.g. xwb train configs/seg_unet_resnet18.yaml --project P "
                       "(or --resume RUN_ID)")
    r = train(a.config, a.project, a.overrides, a.resume, a.tracking_uri, a.device, a.quiet)
    if r.run_id:
        print(f"run {r.run_id} finished")
        if r.version:
            print(f"model: models:/{r.registered_model}/{r.version}")
    return 0


def cmd_models(a) -> int:
    _offline_hub()
    from training.nets import models

    if a.backbone:
        names = models.cls_backbones()
    elif a.encoder:
        names = models.seg_encoders()
    else:
        names = models.seg_architectures()
    print("\n".join(n for n in names if not a.filter or a.filter in n))
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train a segmentation or classification model from a project's labels")
    add_train_args(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("models", help="list the architectures, encoders or backbones a config may name")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--architecture", action="store_true", help="segmentation architectures (default)")
    g.add_argument("--encoder", action="store_true", help="smp encoders")
    g.add_argument("--backbone", action="store_true", help="timm backbones for classification")
    p.add_argument("filter", nargs="?", help="only names containing this text")
    p.set_defaults(func=cmd_models)
    p = sub.add_parser("runs", help="a project's training runs: state, recipe, epochs, best metric, resume command")
    p.add_argument("--project", required=True, help="project folder")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the project's store)")
    p.add_argument("--limit", type=int, default=50, help="newest N runs (default 50)")
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("recipe", help="the recipe reference: every key, type, default, range and meaning")
    p.add_argument("--markdown", action="store_true", help="as Markdown (docs/RECIPES.md is this output)")
    p.set_defaults(func=cmd_recipe)
    register_review(sub)


def cmd_recipe(a) -> int:
    from training.recipes import reference

    print(reference.markdown() if a.markdown else reference.text(), end="" if a.markdown else "\n")
    return 0


def cmd_runs(a) -> int:
    from training.versions.runs import format_rows, list_runs

    print(format_rows(list_runs(a.project, a.tracking_uri, a.limit)))
    return 0


def _uri_args(p) -> None:
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the project's store)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))


def cmd_evaluate(a) -> int:
    _offline_hub()
    from training.evaluation.review import evaluate, key_metrics

    e = evaluate(a.model, a.project, a.split, a.force, a.tracking_uri, a.device)
    figures = "  ".join(f"{k} {e.headline.get(k, float('nan')):.4f}" for k in key_metrics(e.task_type))
    per = e.task_type.seconds_per
    print(f"{e.ref.label} on {a.split}: {figures}  ({e.headline.get('seconds_per_scan', 0):.2f} s/{per})")
    print(f"evaluation run: {e.run_id}{' (reused)' if e.reused else ''}")
    return 0


def cmd_compare(a) -> int:
    _offline_hub()
    from training.evaluation.compare import compare

    compare(a.name, a.project, None if a.all else a.versions, a.split, a.tracking_uri)
    return 0


def cmd_promote(a) -> int:
    _offline_hub()
    from training.evaluation.review import promote

    print(promote(a.name, a.version, a.alias, a.project, a.force, a.reason, a.split, a.metric, a.tracking_uri))
    return 0


def cmd_predict(a) -> int:
    _offline_hub()
    from pathlib import Path

    from training.inference.outputs import predict_files

    s = predict_files(a.model, a.scans, Path(a.out), a.batch, a.device, a.probs, a.tracking_uri, a.project)
    n = len(s.failed)
    print(f"wrote {len(s.written)} files to {a.out}; {n} scan{'' if n == 1 else 's'} skipped")
    return 1 if s.failed else 0


def cmd_prelabel(a) -> int:
    _offline_hub()
    from training.inference.outputs import prelabel

    c = prelabel(a.model, a.project, a.images, a.status, a.tracking_uri, a.device, a.min_area, min_score=a.min_score)
    print(f"pre-labelled {c['scans']} scans: {c['regions']} region proposals, {c['tags']} tag proposals; "
          f"{c['failed']} skipped")
    return 1 if c["failed"] else 0


def cmd_queue(a) -> int:
    _offline_hub()
    from training.inference.queue import queue

    ranked = queue(a.model, a.project, a.images, a.tracking_uri, a.device)
    if not ranked:
        print("no unlabelled scans to rank")
        return 0
    print("uncertainty  id  scan")
    for r in ranked[: a.limit or None]:
        print(f"{r.uncertainty:11.4f}  {r.image_id}  {r.path}")
    return 0


def cmd_versions(a) -> int:
    from training.versions.catalog import format_rows, project_versions

    print(format_rows(project_versions(a.project, a.tracking_uri, a.task)))
    return 0


def cmd_manifest_check(a) -> int:
    _offline_hub()
    from pathlib import Path

    from training.inference.outputs import manifest_check

    s = manifest_check(a.model, a.project, Path(a.out) if a.out else None, a.split, a.tracking_uri, a.device)
    return 1 if s["failed"] else 0


def cmd_sign(a) -> int:
    from pathlib import Path

    from mlflow import MlflowClient

    from training.versions import registry, signing, tracking

    uri = tracking.resolve_uri(a.tracking_uri, Path(a.project))
    tracking.check_server(uri)
    with tracking.using(uri):
        ref = registry.resolve(a.model)
        if ref.name is None:
            raise XwbError(f"{a.model}: only registered versions (models:/NAME/VERSION) are signed")
        old, new = signing.resign(MlflowClient(), ref.name, ref.version, a.reason)
    print(f"signed {ref.name} v{ref.version}: sha256 {new[:16]}…" + ("" if old == new else f" (was {old[:16]}…)"))
    return 0


def cmd_clean(a) -> int:
    from pathlib import Path

    from training.versions.clean import clean_checkpoints

    rep = clean_checkpoints(Path(a.project), a.tracking_uri, failed=a.failed, dry_run=a.dry_run)
    verb = "would delete" if a.dry_run else "deleted"
    for run, status, size in rep.removed:
        print(f"{verb} checkpoints of run {run} ({status.lower()}, {size / 1e6:.1f} MB)")
    for run, status, size in rep.kept:
        print(f"kept checkpoints of run {run} ({status.lower()}: resumable with --resume {run}, {size / 1e6:.1f} MB)")
    print(f"{verb} {len(rep.removed)} checkpoint folder(s), {rep.freed / 1e6:.1f} MB; kept {len(rep.kept)}")
    return 0


def cmd_mlflow_ui(a) -> int:
    import signal
    from pathlib import Path

    from training.versions.tracking import serve_ui, stop_ui

    proc, address = serve_ui(Path(a.project), port=a.port)
    print(f"MLflow UI for {a.project}: {address}  (Ctrl-C stops it)", flush=True)

    def _stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_ui(proc)
    return 0


def register_review(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a model version on a frozen split; logged as an MLflow run")
    p.add_argument("model", help="models:/NAME/VERSION, models:/NAME@ALIAS or runs:/...")
    p.add_argument("--project", required=True)
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--force", action="store_true", help="measure again even if this version was measured on these labels")
    _uri_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("compare", help="versions side by side on one split: table, HTML report, MLflow run")
    p.add_argument("name", help="registered model name, e.g. demo-seg")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--versions", nargs="+", metavar="V")
    g.add_argument("--all", action="store_true", help="every version (the default)")
    p.add_argument("--project", required=True)
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--tracking-uri")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("promote", help="move an alias (e.g. champion) to a version, unless it measures worse")
    p.add_argument("name")
    p.add_argument("version")
    p.add_argument("--alias", default="champion")
    p.add_argument("--project", required=True)
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--metric", help="primary metric (default: mIoU for segmentation, mAP for tags)")
    p.add_argument("--force", action="store_true", help="promote even if worse (needs --reason)")
    p.add_argument("--reason", help="why a worse version is promoted; kept in a version tag")
    p.add_argument("--tracking-uri")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("predict", help="run a model on scan files: label PNG, overlay, JSON per scan")
    p.add_argument("model")
    p.add_argument("scans", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=4, help="tiles per forward pass")
    p.add_argument("--probs", action="store_true", help="also write per-class probability maps (.npz)")
    p.add_argument("--project", help="project whose MLflow store resolves models:/ URIs")
    _uri_args(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("prelabel", help="write a model's output into a project as proposals to review")
    p.add_argument("model")
    p.add_argument("--project", required=True)
    p.add_argument("--images", nargs="+", metavar="ID_OR_PATH", help="these scans (default: unlabelled scans)")
    p.add_argument("--status", default="new", help="scans with this status (default: new, without accepted regions)")
    p.add_argument("--min-area", type=int, default=16, help="smallest proposal in pixels")
    p.add_argument("--min-score", type=float, help="weakest proposal kept, for every class (default: the version's per-class "
                   "operating points, chosen on val for the recipe's eval.operating_pfa)")
    _uri_args(p)
    p.set_defaults(func=cmd_prelabel)

    p = sub.add_parser("queue", help="what to label next: unlabelled scans, the model's most uncertain first")
    p.add_argument("model")
    p.add_argument("--project", required=True)
    p.add_argument("--images", nargs="+", metavar="ID_OR_PATH", help="rank these scans (default: unlabelled scans)")
    p.add_argument("--limit", type=int, default=0, help="print only the first N (default: all)")
    _uri_args(p)
    p.set_defaults(func=cmd_queue)

    p = sub.add_parser("versions", help="the project's registered model versions: aliases, task, recipe, "
                                        "dataset digest, figures")
    p.add_argument("--project", required=True)
    p.add_argument("--task", help="only versions of this task (seg, cls, interactive)")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: the project's own store)")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("manifest-check", help="flag scans whose content the declared manifest does not cover")
    p.add_argument("model")
    p.add_argument("--project", required=True)
    p.add_argument("--split", choices=("train", "val", "test"), help="only this split (default: every scan)")
    p.add_argument("--out", help="CSV path (default: <project>/reports/manifest-check-....csv)")
    _uri_args(p)
    p.set_defaults(func=cmd_manifest_check)

    p = sub.add_parser("sign", help="record the SHA-256 of a model version's files as they are now (after a "
                                    "deliberate change); predict, evaluate and prelabel refuse a changed version")
    p.add_argument("model", help="models:/NAME/VERSION")
    p.add_argument("--project", required=True)
    p.add_argument("--reason", required=True, help="why the files changed (kept as the tag xwb.signed_by)")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: the project's own store)")
    p.set_defaults(func=cmd_sign)
    p = sub.add_parser("clean", help="delete the checkpoints of finished runs (killed and running runs keep theirs)")
    p.add_argument("--project", required=True)
    p.add_argument("--failed", action="store_true", help="also runs that failed (e.g. a NaN loss)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: the project's own store)")
    p.set_defaults(func=cmd_clean)
    p = sub.add_parser("mlflow-ui", help="start the MLflow UI on the project's store (127.0.0.1)")
    p.add_argument("--project", required=True)
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_mlflow_ui)
