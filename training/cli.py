"""``xwb`` subcommands of the training layer (torch is imported only when one runs)."""
from __future__ import annotations

import argparse
import os


def _offline_hub() -> None:
    """No silent downloads: hub libraries fail fast unless the user allows the network."""
    if os.environ.get("XWB_ALLOW_DOWNLOAD") != "1":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    quiet_mlflow()


def quiet_mlflow() -> None:  # noqa: D103 - also called by training.run for in-process callers
    """MLflow's advice to notebook users (type hints, input examples, integer columns) is noise here."""
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for pattern in (".*type hints.*", ".*input example was not provided.*", ".*integer column.*",
                    ".*can be interpreted in multiple ways.*"):
        warnings.filterwarnings("ignore", message=pattern)
    logging.getLogger("mlflow").setLevel(logging.WARNING)


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="training recipe (YAML), e.g. configs/seg_unet_resnet18.yaml")
    p.add_argument("--project", required=True, help="project folder")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.epochs=5 (repeatable)")
    p.add_argument("--resume", metavar="RUN_ID", help="continue a stopped run from its last checkpoint")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the project's store)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override runtime.device")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def cmd_train(a) -> int:
    _offline_hub()
    from training.run import train

    r = train(a.config, a.project, a.overrides, a.resume, a.tracking_uri, a.device, a.quiet)
    if r.run_id:
        print(f"run {r.run_id} finished")
        if r.version:
            print(f"model: models:/{r.registered_model}/{r.version}")
    return 0


def cmd_models(a) -> int:
    _offline_hub()
    from training import models

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
