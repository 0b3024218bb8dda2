"""``make demo``: the whole loop on synthetic data, on the embedded defaults.

Builds synthetic baggage and cargo projects, trains a segmentation model, a
tag classifier and a second segmentation version with another recipe,
evaluates and compares them on the frozen test split, promotes the better one
to ``champion``, pre-labels the unlabelled scans with it, checks manifests,
and opens the workbench when there is a display. Running it again reuses
projects and versions already made (a version is reused when its recipe and
dataset digest match).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import configs
from datasets.errors import XwbError

ROOT = Path.cwd()  # `make demo` runs in the checkout; an installed xwb builds ./demo where it is started
DEMO = ROOT / "demo"
PROJECTS = {"baggage": dict(count=60, size="384x512", unlabelled=4),
            "cargo": dict(count=8, size="512x2048", unlabelled=1)}
RECIPES = [("seg", configs.path("seg_unet_resnet18.yaml")), ("cls", configs.path("cls_resnet18.yaml")),
           ("seg", configs.path("seg_fpn_mobilenet.yaml"))]


def step(msg: str) -> None:
    print(f"\n== {msg}", flush=True)


def build_projects(xwb) -> None:
    for kind, o in PROJECTS.items():
        out = DEMO / kind
        if (out / "project.yaml").exists():
            step(f"{kind} demo project already built: {out} (delete it to rebuild)")
            continue
        step(f"building a synthetic {kind} project: {o['count']} dual-energy 16-bit scans, {o['size']}")
        rc = xwb(["synth", str(out), "--kind", kind, "--count", str(o["count"]), "--seed", "7", "--size", o["size"],
                  "--unlabelled", str(o["unlabelled"])])
        if rc:
            raise XwbError(f"building {out} failed")


def existing_version(name: str, config_sha: str, digest: str) -> str | None:
    from mlflow import MlflowClient

    try:
        versions = MlflowClient().search_model_versions(f"name='{name}'")
    except Exception:
        return None
    for v in sorted(versions, key=lambda v: int(v.version)):
        if v.tags.get("config_sha") == config_sha and v.tags.get("dataset_digest") == digest:
            return str(v.version)
    return None


def train_all(project: Path) -> dict[str, list[str]]:
    from datasets.digest import snapshot_digest
    from datasets.project import Project
    from training.loop.run import train
    from training.recipes.config import load_config
    from training.versions.tracking import default_uri, using

    with Project.open(project, readonly=True) as p:
        digest = snapshot_digest(p)
    made: dict[str, list[str]] = {"seg": [], "cls": []}
    for task, recipe in RECIPES:
        cfg = load_config(recipe)
        name = f"{project.name}-{task}"
        with using(default_uri(project)):
            have = existing_version(name, cfg.sha(), digest)
        if have:
            step(f"{recipe.name}: already trained on these labels -> {name} v{have}")
            made[task].append(have)
            continue
        step(f"training {recipe.name} ({cfg.task}, {cfg.model.arch}/{cfg.model.encoder}, {cfg.optim.epochs} epochs)")
        r = train(recipe, project)
        made[task].append(r.version)
    return made


def main() -> int:
    from training.versions.tracking import default_uri, quiet_mlflow, using
    from workbench.cli import main as xwb

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_mlflow()
    t0 = time.perf_counter()
    DEMO.mkdir(exist_ok=True)
    build_projects(xwb)
    bag = DEMO / "baggage"
    made = train_all(bag)
    seg = f"{bag.name}-seg"

    from training.evaluation.compare import compare
    from training.evaluation.review import promote
    from training.inference.outputs import manifest_check, prelabel

    step(f"evaluating and comparing the {seg} versions on the frozen test split")
    cmp = compare(seg, bag, made["seg"])
    best = max(cmp.rows, key=lambda r: (r["mIoU"] if r["mIoU"] == r["mIoU"] else -1, -int(r["version"])))
    step(f"promoting {seg} v{best['version']} (best test mIoU of this run) to champion")
    try:
        print(promote(seg, best["version"], "champion", bag))
    except XwbError as e:  # an earlier demo's champion measures better: it stays
        print(f"kept the current champion: {e}")
    with using(default_uri(bag)):
        step(f"pre-labelling the unlabelled scans with models:/{seg}@champion")
        c = prelabel(f"models:/{seg}@champion", bag)
        print(f"{c['regions']} region proposals on {c['scans']} scans, for annotators to accept or fix")
        step("image-manifest comparison with the champion")
        mc = manifest_check(f"models:/{seg}@champion", bag)
    secs = time.perf_counter() - t0
    step(f"done in {secs / 60:.1f} min")
    print(f"  projects:           {bag}  {DEMO / 'cargo'}")
    print(f"  MLflow store:       {default_uri(bag)}  (artifacts in {bag / 'mlflow' / 'artifacts'})")
    with using(default_uri(bag)):
        from mlflow import MlflowClient

        champ = MlflowClient().get_model_version_by_alias(seg, "champion").version
    print(f"  models:             models:/{seg}/{','.join(made['seg'])} (champion v{champ}), "
          f"models:/{bag.name}-cls/{','.join(made['cls'])}")
    print(f"  comparison report:  {cmp.report}")
    print(f"  manifest check:     {mc['csv']}")
    print(f"  MLflow UI:          .venv/bin/xwb mlflow-ui --project {bag.relative_to(ROOT)}")
    print(f"  workbench:          .venv/bin/xwb gui {bag.relative_to(ROOT)}   (or demo/cargo)")
    from workbench.app import has_display

    real_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
        os.environ.get("QT_QPA_PLATFORM") != "offscreen"
    if real_display and has_display() and not os.environ.get("CI") and not os.environ.get("XWB_NO_GUI"):
        step("opening the workbench on the baggage project (close the window to finish)")
        return xwb(["gui", str(bag)])
    print("  (no display here: the workbench was not opened)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except XwbError as e:
        print(f"demo: error: {e}", file=sys.stderr)
        sys.exit(1)
