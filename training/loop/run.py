"""``xwb train``: a config and a project in, an MLflow run and a registered model version out."""
from __future__ import annotations

import json
import math
import os
import platform
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.project import Project
from datasets.safefs import atomic_write
from training.evaluation.measure import evaluate_items, write_report
from training.evaluation.metrics import operating_point, pd_key
from training.inference.predict import Predictor
from training.loop import data as D
from training.loop.progress import Progress
from training.loop.trainer import (
    Diverged,
    Trainer,
    init_distributed,
    load_checkpoint,
    pick_device,
    precision,
    save_checkpoint,
)
from training.nets import inputs, models
from training.recipes.config import TrainConfig, load_config, parse_config
from training.versions import signing, tracking


@dataclass
class TrainResult:
    run_id: str | None
    model_uri: str | None
    registered_model: str | None
    version: str | None
    metrics: dict


def checkpoint_root(project_folder: Path) -> Path:
    return Path(project_folder) / "mlflow" / "checkpoints"


def checkpoint_dir(project_folder: Path, run_id: str) -> Path:
    return checkpoint_root(project_folder) / run_id


def _val_keys(cfg: TrainConfig) -> list[str]:
    task = cfg.task_type
    pd = ["m" + pd_key(p) for p in cfg.eval.pfa] if task.detection else []
    return [f"val_{k}" for k in list(task.val_metrics) + pd]


def build_spec(cfg: TrainConfig, project: Project, names: list[str], raw: int, channels: list[str],
               kind: inputs.InputKind, first: D.ScanItem, digest: str) -> dict:
    """What a logged model carries: classes, the input it was trained on, preprocessing, tiles (``first``:
    a training scan, whose I0 or CT rescale is the default for scans that say nothing)."""
    tax = project.taxonomy
    task = cfg.task_type
    if kind.volume:  # stored CT values -> density relative to water (model_code.ct_density)
        pre = {"kind": "ct", "rescale": list(first.rescale or (1.0, 0.0))}
    else:
        pre = {"kind": "colour" if kind.layout == "rgb" else "log_transmission", "max_value": kind.full_scale,
               "default_i0": first.i0[:raw], "default_dark": 0.0}
    return {"xwb_model": 1, "task": cfg.task, "recipe": cfg.name,
            "model": {"arch": task.spec_arch(cfg.model.arch),
                      "encoder": cfg.model.encoder, "dropout": cfg.model.dropout,
                      **({"width": cfg.model.width} if cfg.model.width else {}),
                      **({"pool": cfg.model.pool} if cfg.model.pool != "avg" else {}),
                      **({"custom": models.custom_spec(cfg.model.arch)} if ":" in cfg.model.arch else {})},
            "classes": names, **task.spec_labels(tax, names),
            "input": {"layout": kind.layout, "bit_depth": kind.bit_depth, **({"volume": True} if kind.volume else {})},
            "preprocess": {**pre, "channels": channels, "raw_channels": raw, "mean": [0.0] * len(channels),
                           "std": [1.0] * len(channels)},
            "tile": cfg.eval.tile, "overlap": cfg.eval.overlap, "pad_multiple": 32,
            "image_size": cfg.data.image_size, "threshold": cfg.eval.threshold,
            **({"volume_size": cfg.data.volume_size, "volume_tile": cfg.data.tile} if kind.volume else {}),
            "project": project.name, "dataset_digest": digest,
            "taxonomy": {"classes": tax.names, "tags": list(tax.tags)}}


def _check_labels(cfg: TrainConfig, split: str, items: list[D.ScanItem], total: int) -> None:
    if not items:
        what = "labelled scans" if total else "scans"
        raise XwbError(f"the {split} split has no {what} ({total} scans assigned to it); "
                       f"label scans (status done) or run `xwb split`")
    if split == "train":
        why = cfg.task_type.nothing_to_learn(items)
        if why:
            raise XwbError(why)


def _log_inputs(mlflow, project: Project, digest: str, splits: dict[str, list[D.ScanItem]]) -> None:
    import pandas as pd

    for split, items in splits.items():
        df = pd.DataFrame([{"path": project.relpath(it.path), "image_id": it.image_id, "split": split,
                            "regions": len(it.regions),
                            "tags": "" if it.tags is None else int(it.tags.sum())} for it in items])
        ds = mlflow.data.from_pandas(df, source=str(project.folder), name=f"{project.name}-{split}",
                                     digest=digest[:32])
        n_reg = sum(len(it.regions) for it in items)
        mlflow.log_input(ds, context="training" if split == "train" else "validation",
                         tags={"xwb.dataset_digest": digest, "xwb.split": split, "xwb.images": str(len(items)),
                               "xwb.regions": str(n_reg)})


def _tags(cfg: TrainConfig, project: Project, digest: str, device: str, ckdir: Path) -> dict:
    tags = {"xwb.task": cfg.task, "xwb.recipe": cfg.name, "xwb.project": project.name,
            "xwb.project_folder": str(project.folder.resolve()), "xwb.dataset_digest": digest,
            "xwb.host": socket.gethostname(), "xwb.device": device, "xwb.torch": torch.__version__,
            "xwb.platform": platform.platform(), "xwb.checkpoint_dir": str(ckdir.resolve()),
            "xwb.world_size": os.environ.get("WORLD_SIZE", "1")}
    if device.startswith("cuda"):
        tags["xwb.gpu"] = torch.cuda.get_device_name(0)
    tags["xwb.precision"] = precision(cfg, device)
    commit = tracking.git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
        tags["xwb.git_commit"] = commit
    return tags


def train(config: str | Path | TrainConfig, project_path: str | Path, overrides: list[str] | None = None,
          resume: str | None = None, tracking_uri: str | None = None, device: str | None = None,
          quiet: bool = False) -> TrainResult:
    """Train one model; returns the run, the logged model and its registered version."""
    tracking.quiet_mlflow()
    with tracking.using(None):  # whatever MLflow sets in the environment is undone afterwards
        return _train(config, project_path, overrides, resume, tracking_uri, device, quiet)


def _train(config, project_path, overrides, resume, tracking_uri, device, quiet) -> TrainResult:
    progress = Progress(enabled=not quiet)
    folder = Path(project_path)
    ck = None
    extended = ""
    if resume:
        ck = load_checkpoint(checkpoint_dir(folder, resume) / "last.pt")
        cfg = parse_config(yaml.safe_load(ck["config"]), f"checkpoint of run {resume}")
        if config is not None or overrides:
            kind = inputs.of_spec(json.loads(ck["spec"]))
            cfg, extended = resume_config(cfg, config, overrides, resume, ck["state"]["epoch"],
                                          lambda c: _fit_to_scans(c, kind, None))
            if extended:
                progress.note(f"changed on resume: {extended}")
    else:
        cfg = config if isinstance(config, TrainConfig) else load_config(config, overrides)
    if cfg.optim.monitor and cfg.optim.monitor not in _val_keys(cfg):
        raise XwbError(f"optim.monitor: {cfg.optim.monitor!r} is not a validation metric "
                       f"({', '.join(_val_keys(cfg))})")
    task = cfg.task_type
    models.check_names(cfg.task_type, cfg.model.arch, cfg.model.encoder)
    least = task.least_input(cfg.model.arch)
    if cfg.data.tile < least or cfg.data.tile % 32:
        raise XwbError(f"data.tile: {cfg.model.arch} needs tiles of at least {least} px, in steps of 32 "
                       f"(got {cfg.data.tile})")
    models.check_buildable(cfg.task_type, cfg.model.arch, cfg.model.encoder, task.input_size(cfg))
    if ":" in cfg.loss.name:
        from training.recipes import custom

        custom.resolve(cfg.loss.name, "loss.name")  # a missing file or name: now, not after loading the data
    dev = pick_device(cfg, device, None)
    d = init_distributed(dev)
    if d.on and dev.startswith("cuda"):
        dev = f"cuda:{d.local_rank}"
        torch.cuda.set_device(d.local_rank)
    if cfg.runtime.threads:
        torch.set_num_threads(cfg.runtime.threads)
    torch.manual_seed(cfg.runtime.seed)
    np.random.seed(cfg.runtime.seed)

    import mlflow

    uri = tracking.resolve_uri(tracking_uri, folder)
    if d.main:
        tracking.setup(uri, folder)  # before the slow part: a dead server fails within seconds
        if resume:
            done = _finish_interrupted_registration(resume, progress)
            if done is not None:
                return done
            progress.note(f"resuming run {resume} at epoch {ck['state']['epoch'] + 1} of {cfg.optim.epochs} "
                          "(config from its checkpoint)")

    with Project.open(folder, readonly=True) as project:
        names = D.class_names(project, cfg)
        totals = {s: len(project.store.images(split=s)) for s in ("train", "val")}
        items = {s: D.load_items(project, s, names, cfg.task_type) for s in ("train", "val")}
        for s in ("train", "val"):
            _check_labels(cfg, s, items[s], totals[s])
        kind = D.input_kind(items["train"] + items["val"])
        channels = inputs.resolve_channels(cfg.data.channels, kind)
        _fit_to_scans(cfg, kind, progress)
        raw = inputs.raw_channels(channels)
        digest = snapshot_digest(project)
        if ck is not None:
            spec = json.loads(ck["spec"])
            if spec["dataset_digest"] != digest:
                progress.note(f"note: the labels changed since run {resume} started "
                              f"(digest {spec['dataset_digest'][:12]} -> {digest[:12]}); training goes on with the new labels")
                spec["dataset_digest"] = digest
        else:
            spec = build_spec(cfg, project, names, raw, channels, kind, items["train"][0], digest)
            src = {it.i0_from_file for it in items["train"]}
            if not kind.volume:
                spec["input"]["i0"] = ("from the scan files" if src == {True} else
                                       "full scale of the bit depth" if src == {False} else "mixed")
            spec["preprocess"]["mean"], spec["preprocess"]["std"] = D.feature_stats(items["train"], channels,
                                                                                    pre=spec["preprocess"])
        # rank 0 loads starting weights; DDP hands its parameters to the other ranks
        net = models.create(spec, cfg.model.encoder_weights if ck is None and d.main else None)
        init = spec.get("init")
        if init and ck is None:
            what = f"; {init['adapted']} first convolution(s) adapted to {len(channels)} input channels" \
                if init["adapted"] else ""
            progress.note(f"starting weights: loaded {init['loaded']} of {init['tensors']} tensors from "
                          f"{init['label']} (sha256 {init['sha256'][:12]}){what}; the rest start fresh")
        train_ds = task.dataset(items["train"], cfg, spec["preprocess"], d.rank, d.world)
        val_items = items["val"][: cfg.data.val_max_images or None]

        trainer = Trainer(cfg, net, train_ds, dev, d, progress)
        if ck is not None:
            trainer.restore(ck)

        run_id = None
        if d.main:
            run_id = _start_run(mlflow, cfg, project, uri, resume, digest, dev, items, spec)
            if ck is not None:
                _log_pending(mlflow, run_id, ck.get("pending") or {})
            if extended:
                mlflow.set_tag(f"xwb.extended.{int(time.time())}", f"{extended} at epoch {ck['state']['epoch']}")
            ckdir = checkpoint_dir(folder, run_id)
            progress.note(f"run {run_id} ({'resumed' if resume else 'started'}): MLflow {uri}, checkpoints "
                          f"{ckdir}")
            resume_hint = f"xwb train --project {folder} --resume {run_id}"
    try:
        metrics = _epochs(mlflow, trainer, cfg, spec, val_items, progress, d, ckdir if d.main else None)
        result = TrainResult(run_id, None, None, None, metrics)
        if d.main:
            result = _finish(mlflow, trainer, cfg, spec, val_items, ckdir, run_id, metrics, progress)
        if d.on:
            torch.distributed.barrier()
        return result
    except Diverged as e:
        if d.main:
            mlflow.set_tag("xwb.failure", str(e))
            mlflow.end_run(status="FAILED")
        raise XwbError(f"{e}; run {run_id} marked FAILED" if run_id else str(e)) from None
    except KeyboardInterrupt:
        if d.main:
            mlflow.end_run(status="KILLED")
            progress.note(f"\ninterrupted: run {run_id} stopped after its last finished epoch; to go on:\n  "
                          f"{resume_hint}", always=True)
        raise
    except BaseException:
        if d.main:
            mlflow.end_run(status="FAILED")
        raise
    finally:
        if d.on and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _start_run(mlflow, cfg: TrainConfig, project: Project, uri: str, resume: str | None, digest: str, dev: str,
               items: dict, spec: dict) -> str:
    exp_name = cfg.mlflow.experiment or f"{project.name}/{cfg.task}"
    exp_id = tracking.experiment_id(exp_name, uri, project.folder)
    if resume:
        try:
            run = mlflow.get_run(resume)
        except Exception:
            raise XwbError(f"--resume {resume}: no such run in {uri}") from None
        mlflow.start_run(run_id=resume)
        mlflow.set_tag("xwb.resumed_at", time.strftime("%Y-%m-%dT%H:%M:%S"))
        return run.info.run_id
    run = mlflow.start_run(experiment_id=exp_id, run_name=cfg.mlflow.run_name or f"{cfg.name}-{time.strftime('%m%d-%H%M%S')}")
    flat = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in cfg.flat().items()}
    mlflow.log_params(flat)
    mlflow.set_tags(_tags(cfg, project, digest, dev, checkpoint_dir(project.folder, run.info.run_id)))
    own = spec["model"].get("custom")
    if own:
        mlflow.set_tags({"xwb.custom_arch": own["ref"], "xwb.custom_arch_sha256": own["sha256"]})
    if ":" in cfg.loss.name:
        from training.recipes import custom

        ref = custom.resolve(cfg.loss.name, "loss.name")
        mlflow.set_tags({"xwb.custom_loss": ref.ref, "xwb.custom_loss_sha256": ref.sha256})
        mlflow.log_artifact(str(ref.source), "custom")
    if spec.get("init"):
        i = spec["init"]
        mlflow.set_tags({"xwb.init_weights": i["from"], "xwb.init_weights_sha256": i["sha256"],
                         "xwb.init_weights_loaded": f"{i['loaded']}/{i['tensors']}"})
    mlflow.log_text(cfg.to_yaml(), "config/config.yaml")
    mlflow.log_dict(spec, "config/spec.json")  # what the model will carry: classes, preprocessing, tiles
    _log_inputs(mlflow, project, digest, items)
    return run.info.run_id


def _log_pending(mlflow, run_id: str, pending: dict) -> None:
    """Metrics of the last checkpointed epoch, if the kill came before MLflow got them."""
    if not pending.get("metrics"):
        return
    steps = {m.step for m in mlflow.MlflowClient().get_metric_history(run_id, "train_loss")}
    if pending["step"] not in steps:
        mlflow.log_metrics(pending["metrics"], step=pending["step"])


def _validate(trainer: Trainer, cfg: TrainConfig, spec: dict, items: list[D.ScanItem]) -> dict:
    pred = Predictor(trainer.net, spec, trainer.device, channels_last=trainer.cuda and cfg.runtime.channels_last)
    res = evaluate_items(pred, items, cfg.eval.pfa, cfg.eval.threshold, max_clicks=cfg.eval.val_clicks)
    return {f"val_{k}": v for k, v in res["headline"].items() if k != "seconds_per_scan"}


def _epochs(mlflow, trainer: Trainer, cfg: TrainConfig, spec: dict, val_items, progress: Progress, d, ckdir) -> dict:
    from safetensors.torch import save as st_save

    first = trainer.state.epoch
    last_val: dict = {}
    for epoch in range(first, cfg.optim.epochs):
        trainer.state.epoch = epoch
        t0 = time.perf_counter()
        stats = trainer.run_epoch()
        stop = False
        if d.main:
            t1 = time.perf_counter()
            validate = (epoch + 1) % cfg.eval.val_every == 0 or epoch + 1 == cfg.optim.epochs
            val = _validate(trainer, cfg, spec, val_items) if validate else {}
            t2 = time.perf_counter()
            if val:
                last_val = val
            ckdir.mkdir(parents=True, exist_ok=True)
            if validate and trainer.improved(val.get(cfg.monitor, math.nan)):
                atomic_write(ckdir / "best.safetensors", st_save(
                    {k: v.detach().cpu().contiguous() for k, v in trainer.net.state_dict().items()}))
            trainer.state.epoch = epoch + 1
            logged = {k: v for k, v in {**stats, **val}.items() if not math.isnan(v)}
            save_checkpoint(ckdir / "last.pt", trainer.net, trainer.opt, trainer.sched, trainer.scaler,
                            trainer.state, cfg.to_yaml(), spec, {"step": epoch, "metrics": logged})
            # what `xwb runs` shows without opening the checkpoint (it may be hundreds of MB)
            atomic_write(ckdir / "progress.json", json.dumps({"epochs_done": epoch + 1, "epochs": cfg.optim.epochs}))
            t3 = time.perf_counter()
            # where the epoch's time went (train steps incl. data loading, validation, checkpoints)
            logged.update({"epoch_train_s": t1 - t0, "epoch_val_s": t2 - t1, "epoch_save_s": t3 - t2})
            mlflow.log_metrics(logged, step=epoch)
            progress.epoch_done(epoch, cfg.optim.epochs, stats, val, cfg.monitor, first, (t1 - t0, t2 - t1, t3 - t2))
            stop = validate and trainer.should_stop()
            if stop:
                progress.note(f"early stop: {cfg.monitor} has not improved for {cfg.optim.patience} epochs "
                              f"(best {trainer.state.best:.4f} at epoch {trainer.state.best_epoch + 1})")
        else:
            trainer.state.epoch = epoch + 1
        if trainer.broadcast_stop(stop):
            break
    return last_val


def _fit_to_scans(cfg: TrainConfig, kind: inputs.InputKind, progress: Progress | None) -> None:
    """What a recipe cannot do on these scans, switched off with a note (the logged config says so)."""
    note = cfg.task_type.fit_to_scans(cfg, kind)
    if note and progress is not None:
        progress.note(note)


# what a resumed run may change: how long it goes on, and where and how fast it runs
_RESUMABLE = ("optim.epochs", "runtime.device", "runtime.threads", "data.workers", "runtime.amp", "mlflow.run_name")


def resume_config(cfg: TrainConfig, config, overrides: list[str] | None, run_id: str,
                  epochs_done: int, fit=None) -> tuple[TrainConfig, str]:
    """The run's own config, with what a resume may change taken from the recipe and ``--set``: more epochs
    (the schedule's tail follows the new length) and the runtime. Anything else that differs is refused,
    named key by key: a resumed run must stay the run it was (a cls recipe must not go on as a seg run)."""
    if config is None:
        base = cfg.model_dump()
        req = parse_config(base, f"run {run_id}", overrides)
    else:
        req = config if isinstance(config, TrainConfig) else load_config(config, overrides)
    if fit is not None:
        fit(req)
    have, want = cfg.flat(), req.flat()
    first = ("task", "model.")  # what makes another kind of run is named first
    diffs = sorted((k for k in set(have) | set(want) if have.get(k) != want.get(k)),
                   key=lambda k: (not k.startswith(first), k))
    refused = [k for k in diffs if k not in _RESUMABLE]
    if refused:
        shown = "; ".join(f"{k}: run {have.get(k)!r}, asked {want.get(k)!r}" for k in refused[:6])
        more = f" (and {len(refused) - 6} more)" if len(refused) > 6 else ""
        raise XwbError(f"--resume {run_id}: the recipe differs from the run's own config ({shown}{more}); "
                       "resume without a recipe (or with the run's), or start a new run")
    if want["optim.epochs"] < max(epochs_done, 1):
        raise XwbError(f"--resume {run_id}: optim.epochs {want['optim.epochs']} is fewer than the "
                       f"{epochs_done} epochs already done")
    out = cfg.model_copy(deep=True)
    changes = []
    for k in diffs:
        section, key = k.split(".", 1)
        setattr(getattr(out, section), key, getattr(getattr(req, section), key))
        changes.append(f"{k} {have.get(k)} -> {want.get(k)}")
    return out, ", ".join(changes)


def _finish_interrupted_registration(run_id: str, progress: Progress) -> TrainResult | None:
    """A run that already has a registered version: complete that registration if it was interrupted,
    refuse to train again if it was not. None: the run has no version yet (resume trains)."""
    from mlflow import MlflowClient

    c = MlflowClient()
    versions = c.search_model_versions(f"run_id='{run_id}'")
    if not versions:
        try:
            run = c.get_run(run_id)
        except Exception:
            return None  # not in this store: _start_run says so
        if run.info.status == "FINISHED":
            raise XwbError(f"run {run_id} is finished (it registered no version); nothing to resume "
                           "(train a new run to go on from it)")
        return None
    mv = max(versions, key=lambda v: int(v.version))
    if signing.registration_state(c, mv) != "interrupted":
        raise XwbError(f"run {run_id} is finished and registered as {mv.name} v{mv.version}; nothing to resume "
                       "(train a new run to go on from it)")
    tags = json.loads(c.get_run(run_id).data.tags.get(signing.PENDING, "{}"))
    signing.complete(c, mv.name, mv.version, tags)
    c.set_tag(run_id, "xwb.registered_model", f"{mv.name}/{mv.version}")
    c.set_terminated(run_id, "FINISHED")
    progress.note(f"completed the interrupted registration of {mv.name} version {mv.version} "
                  f"(models:/{mv.name}/{mv.version}); nothing else to do")
    return TrainResult(run_id, f"models:/{mv.name}/{mv.version}", mv.name, str(mv.version), {})


def _finish(mlflow, trainer: Trainer, cfg: TrainConfig, spec: dict, val_items, ckdir: Path, run_id: str,
            last_val: dict, progress: Progress) -> TrainResult:
    from mlflow import MlflowClient
    from safetensors.torch import load_file

    best = ckdir / "best.safetensors"
    if best.is_file():
        trainer.net.load_state_dict(load_file(str(best)))
    trainer.net.to("cpu")
    progress.note("evaluating the best checkpoint on the val split and logging the model")
    pred = Predictor(trainer.net, spec, "cpu")
    res = evaluate_items(pred, val_items, cfg.eval.pfa, cfg.eval.threshold, keep=cfg.eval.overlays)
    with tempfile.TemporaryDirectory(prefix="xwb-report-") as tmp:
        write_report(res, pred, Path(tmp), [tuple(c) for c in spec["colors"]],
                     f"{spec['recipe']} on {spec['project']} (val)")
        mlflow.log_artifacts(tmp, "evaluation/val")
    final = {f"best_val_{k}": v for k, v in res["headline"].items()}
    for cname, row in res["per_class"].items():
        for k in ("IoU", "Dice", "AP", "AUROC", pd_key(0.01), pd_key(0.05)):
            if k in row:
                final[f"val_{k}_{cname}"] = row[k]
    final["best_epoch"] = trainer.state.best_epoch + 1
    if cfg.eval.operating_pfa is not None and cfg.task_type.detection and len(res["scores"]):
        op = operating_point(res["scores"], res["present"], pred.classes, cfg.eval.operating_pfa, cfg.eval.threshold)
        spec["operating_point"] = op  # travels inside the version (spec.json): every command alarms above it
        progress.note(f"operating points for PFA {op['pfa'] * 100:g} % on {len(val_items)} val scans: "
                      + ", ".join(f"{c} {t:.3f}" for c, t in op["thresholds"].items() if c in op["placed"])
                      + (f"; {len(pred.classes) - len(op['placed'])} class(es) at the flat {op['fallback']:g} "
                         "(no val scan with or without them)" if len(op["placed"]) < len(pred.classes) else ""))
    if "best_epoch" not in MlflowClient().get_run(run_id).data.metrics:  # (a resumed _finish logs them once)
        mlflow.log_metrics({k: float(v) for k, v in final.items() if v is not None and not math.isnan(v)})
    suffix = cfg.task_type.model_suffix
    registered = (cfg.mlflow.registered_model or f"{spec['project']}-{suffix}") if cfg.mlflow.register_model else None
    head = {k: v for k, v in res["headline"].items() if not math.isnan(v)}
    tags = {"dataset_digest": spec["dataset_digest"], "recipe": spec["recipe"], "run_id": run_id,
            "architecture": f"{spec['model']['arch']}/{spec['model']['encoder']}",
            "config_sha": cfg.sha(),
            **({"operating_point": json.dumps({"pfa": spec["operating_point"]["pfa"],
                                               "thresholds": spec["operating_point"]["thresholds"]})}
               if "operating_point" in spec else {}),
            "task": cfg.task, **{f"val_{k}": f"{v:.4f}" for k, v in head.items()}}
    mlflow.set_tag(signing.PENDING, json.dumps(tags))  # what the version needs, should this process die
    model_uri, version = tracking.log_model(trainer.net, spec, registered)
    if version:
        signing.complete(MlflowClient(), registered, version, tags)
        mlflow.set_tag("xwb.registered_model", f"{registered}/{version}")
        progress.note(f"registered {registered} version {version} (models:/{registered}/{version})")
    mlflow.end_run()
    if not cfg.mlflow.keep_checkpoints:
        import shutil

        shutil.rmtree(ckdir, ignore_errors=True)  # the model is in MLflow; only extending the run needed these
    return TrainResult(run_id, model_uri, registered, version, {**last_val, **final})
