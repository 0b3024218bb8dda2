"""``xwb evaluate`` / ``compare`` / ``promote``: every version measured on the same frozen split, the same way.

An evaluation is an MLflow run tagged with the model version, the split and
the dataset digest it measured; the same version on the same digest is
measured once and reused (``--force`` measures again). Comparisons and
promotions read those runs, so a reviewer can trace every number.
"""
from __future__ import annotations

import getpass
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.project import Project
from training import tasks
from training.evaluation.bootstrap import LOWER_IS_BETTER, Sample, paired
from training.evaluation.measure import evaluate_items, write_report
from training.evaluation.metrics import pd_key
from training.inference.predict import load_predictor
from training.loop.data import load_items
from training.tasks.base import Task
from training.versions import registry, signing, tracking

EVAL_FORMAT = "2"  # evaluation runs that keep per-scan figures (bootstrap intervals); older ones are measured again



@dataclass
class Evaluation:
    ref: registry.VersionRef
    run_id: str
    task: str
    task_type: Task  # ``task``, resolved once (from the run's tag or the loaded predictor)
    split: str
    digest: str
    headline: dict
    per_class: dict
    scores: np.ndarray
    present: np.ndarray
    classes: list[str]
    reused: bool
    scans: int = 0
    sample: Sample | None = None    # per scan (or object): what the bootstrap intervals resample


def _experiment(ref: registry.VersionRef, project: Project, task: str, uri: str) -> str:
    """Evaluations sit in the experiment of the run that trained the version (next to it in the UI)."""
    from mlflow import MlflowClient

    c = MlflowClient()
    if ref.name:
        try:
            mv = c.get_model_version(ref.name, ref.version)
            return c.get_run(mv.run_id).info.experiment_id
        except Exception:
            pass
    return tracking.experiment_id(f"{project.name}/{task}", uri, project.folder)


def _cached(exp_id: str, ref: registry.VersionRef, split: str, digest: str):
    from mlflow import MlflowClient

    if not ref.name:
        return None
    runs = MlflowClient().search_runs(
        [exp_id], filter_string=(f"tags.`xwb.kind` = 'evaluation' and tags.`xwb.model_name` = '{ref.name}' and "
                                 f"tags.`xwb.model_version` = '{ref.version}' and tags.`xwb.split` = '{split}' and "
                                 f"tags.`xwb.dataset_digest` = '{digest}' and attributes.status = 'FINISHED' and "
                                 f"tags.`xwb.eval_format` = '{EVAL_FORMAT}'"),
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def _from_run(run, ref, split, digest) -> Evaluation:
    from mlflow import MlflowClient

    path = MlflowClient().download_artifacts(run.info.run_id, f"evaluation/{split}/metrics.json")
    data = json.loads(Path(path).read_text())
    task = run.data.tags["xwb.task"]
    kind = tasks.get(task, f"evaluation run {run.info.run_id}: xwb.task")
    return Evaluation(ref, run.info.run_id, task, kind, split, digest, data["headline"],
                      data["per_class"], np.array(data["scores"]), np.array(data["present"]).astype(bool),
                      list(data["per_class"]), True, int(data.get("n_scans", len(data["scores"]))), Sample.of(data))


def evaluate(model_uri: str, project_path: str | Path, split: str = "test", force: bool = False,
             tracking_uri: str | None = None, device: str | None = None, quiet: bool = False) -> Evaluation:
    folder = Path(project_path)
    uri = tracking.resolve_uri(tracking_uri, folder)
    tracking.quiet_mlflow()
    with tracking.using(uri):
        tracking.check_server(uri)
        return _evaluate(model_uri, folder, split, force, uri, device, quiet)


def _evaluate(model_uri, folder, split, force, uri, device, quiet) -> Evaluation:
    import mlflow

    ref = registry.resolve(model_uri)
    with Project.open(folder, readonly=True) as p:
        digest = snapshot_digest(p)
        exp_id = None
        if ref.name and not force:
            from mlflow import MlflowClient

            mv = MlflowClient().get_model_version(ref.name, ref.version)
            spec_task = mv.tags.get("task")
            if spec_task:
                exp_id = _experiment(ref, p, spec_task, uri)
                hit = _cached(exp_id, ref, split, digest)
                if hit is not None:
                    if not quiet:
                        print(f"{ref.label} on {split} (digest {digest[:12]}): reusing evaluation run {hit.info.run_id}")
                    return _from_run(hit, ref, split, digest)
        pred = load_predictor(ref.uri, device)
        registry.check_taxonomy(pred.spec, p, model_uri)
        items = load_items(p, split, pred.classes, pred.task_type)
        total = len(p.store.images(split=split))
        if not items:
            raise XwbError(f"the {split} split of {p.name} has no labelled scans ({total} scans in it); "
                           "nothing to evaluate on")
        exp_id = exp_id or _experiment(ref, p, pred.task, uri)
        pname = p.name
    if not quiet:
        print(f"evaluating {ref.label} on {len(items)} {split} scans of {pname} (digest {digest[:12]})")
    res = evaluate_items(pred, items, pfas=(0.01, 0.05), threshold=float(pred.spec.get("threshold", 0.5)), keep=4,
                         progress=None if quiet else _Dots())
    with mlflow.start_run(experiment_id=exp_id, run_name=f"eval {ref.label} {split}") as run:
        mlflow.set_tags({"xwb.kind": "evaluation", "xwb.model_uri": ref.uri, "xwb.model_name": ref.name or "",
                         "xwb.model_version": ref.version or "", "xwb.split": split, "xwb.dataset_digest": digest,
                         "xwb.trained_on_digest": pred.spec.get("dataset_digest", ""), "xwb.task": pred.task,
                         "xwb.project": pname, "xwb.scans": str(len(items)), "xwb.eval_format": EVAL_FORMAT})
        metrics = {f"{split}_{k}": v for k, v in res["headline"].items()}
        for cname, row in res["per_class"].items():
            for k in ("IoU", "Dice", "AP", "AUROC", pd_key(0.01), pd_key(0.05)):
                if k in row:
                    metrics[f"{split}_{k}_{cname}"] = row[k]
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and not math.isnan(v)})
        with tempfile.TemporaryDirectory(prefix="xwb-eval-") as tmp:
            write_report(res, pred, Path(tmp), [tuple(c) for c in pred.spec.get("colors", [])] or [(255, 0, 0)],
                         f"{ref.label} on {pname} ({split})")
            mlflow.log_artifacts(tmp, f"evaluation/{split}")
        run_id = run.info.run_id
    if ref.name:
        from mlflow import MlflowClient

        c = MlflowClient()
        c.set_model_version_tag(ref.name, ref.version, f"eval.{split}.run_id", run_id)
        c.set_model_version_tag(ref.name, ref.version, f"eval.{split}.digest", digest)
        for k, v in res["headline"].items():
            if not math.isnan(v):
                c.set_model_version_tag(ref.name, ref.version, f"eval.{split}.{k}", f"{v:.4f}")
    return Evaluation(ref, run_id, pred.task, pred.task_type, split, digest, res["headline"], res["per_class"],
                      np.array(res["scores"]), np.array(res["present"]).astype(bool), pred.classes, False,
                      res["n_scans"], Sample.of(res))


class _Dots:
    def __init__(self):
        self.t = time.perf_counter()

    def __call__(self, n: int, total: int) -> None:
        if n == total or n % 10 == 0:
            print(f"  {n}/{total} scans, {time.perf_counter() - self.t:.1f} s", flush=True)


def key_metrics(t: Task) -> list[str]:
    return [*t.key_metrics, *(("mPd_pfa1", "mPd_pfa5") if t.detection else ())]


def promote(name: str, version: str, alias: str, project_path: str | Path, force: bool = False,
            reason: str | None = None, split: str = "test", metric: str | None = None,
            tracking_uri: str | None = None) -> str:
    """Move ``alias`` to ``version`` unless it measures worse than the alias's current version."""
    from mlflow import MlflowClient

    if force and not reason:
        raise XwbError("--force needs --reason: the version tag records who forced the promotion and why")
    folder = Path(project_path)
    uri = tracking.resolve_uri(tracking_uri, folder)
    tracking.quiet_mlflow()
    with tracking.using(uri):
        tracking.check_server(uri)
        new_ref = registry.resolve(f"models:/{name}/{version}")
        c = MlflowClient()
        signing.check_complete(c, c.get_model_version(name, new_ref.version), name)  # never an interrupted one
        try:
            cur = c.get_model_version_by_alias(name, alias)
        except Exception:
            cur = None
        note = f"{name} v{version} is now @{alias}"
        if cur is not None and str(cur.version) != str(version):
            new = evaluate(new_ref.uri, folder, split, quiet=True)
            old = evaluate(f"models:/{name}/{cur.version}", folder, split, quiet=True)
            m = metric or new.task_type.monitor
            if m not in new.headline:
                raise XwbError(f"--metric {m}: not a {new.task} metric ({', '.join(new.headline)})")
            a, b = new.headline[m], old.headline[m]
            lower = m in LOWER_IS_BETTER
            worse = (math.isnan(a) and not math.isnan(b)) or (a > b if lower else a < b)
            d = paired(m, new.sample, old.sample) if new.sample is not None and old.sample is not None else None
            noise = f"; paired bootstrap over {new.scans} scans: Δ{m} {d.text(4)}" if d is not None else ""
            if worse and not force:
                raise XwbError(f"refused: v{version} {m} {a:.4f} {'>' if lower else '<'} v{cur.version} (@{alias}) "
                               f"{b:.4f} on the {split} split (digest {new.digest[:12]}){noise}; use --force "
                               "--reason '...' to promote anyway")
            if worse:
                user = getpass.getuser()
                c.set_model_version_tag(name, version, "promotion.forced_by", user)
                c.set_model_version_tag(name, version, "promotion.forced_reason", reason)
                c.set_model_version_tag(name, version, "promotion.forced_over",
                                        f"v{cur.version}: {m} {b:.4f} vs {a:.4f} on {split} ({new.digest[:12]})")
                note += f" (forced by {user} over v{cur.version}: {m} {a:.4f} vs {b:.4f}{noise})"
            else:
                note += f" ({m} {a:.4f} {'<=' if lower else '>='} v{cur.version} {b:.4f} on {split}{noise})"
        c.set_registered_model_alias(name, alias, str(version))
        c.set_model_version_tag(name, version, f"promotion.{alias}", time.strftime("%Y-%m-%dT%H:%M:%S"))
    return note
