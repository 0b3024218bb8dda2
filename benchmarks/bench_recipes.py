"""Where the segmentation recipes lose (issue 16): ablations against one base recipe, measured on held-out
scans and logged to MLflow so a reviewer can see them.

One synthetic training project (``--train-scans`` baggage scans, seed 41, every scan labelled) trains each
variant (the base recipe plus ``--set`` overrides) from scratch; each model is measured on the held-out
projects of ``heldout.py`` (easy and hidden occlusion, seeds no recipe was tuned on). Every variant is an
MLflow run of experiment "recipe-ablation" in the training project's store: its overrides as parameters,
training minutes and the held-out figures as metrics, the per-class table as text.

Run: .venv/bin/python benchmarks/bench_recipes.py --out /tmp/ablate [--variants base,epochs48,...]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from heldout import figures, headline, heldout_projects, per_class_table
from smoke import TINY, parse

from datasets.synth.build import synth_project

FPN = "configs/seg_fpn_mobilenet.yaml"
BF16 = ["runtime.cpu_bf16=true"]  # measured first against the float32 base; the other changes ride on it
VARIANTS = {  # name -> (recipe, overrides): one change each from "bf16", so a difference has one cause
    "base": (FPN, []),
    "bf16": (FPN, BF16),
    "epochs48": (FPN, [*BF16, "optim.epochs=48", "optim.patience=0"]),
    "tile256": (FPN, [*BF16, "data.tile=256", "data.crops_per_epoch=32"]),  # 4x the context, the same pixels
    "dice_ce": (FPN, [*BF16, "loss.name=dice_ce"]),
    "uniform": (FPN, [*BF16, "data.sampling=uniform"]),
    "no_tip": (FPN, [*BF16, "augment.tip=0"]),
    "lr5e-4": (FPN, [*BF16, "optim.lr=0.0005"]),
    "unet_resnet18": ("configs/seg_unet_resnet18.yaml", BF16),
    "cpu_recipe": ("configs/seg_fpn_cpu.yaml", []),  # the shipped CPU recipe: bf16, more crops, sparser validation
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/xwb-ablation", help="folder for the training project (reused when there)")
    ap.add_argument("--heldout", default="/tmp/xwb-heldout")
    ap.add_argument("--train-scans", type=int, default=240)
    ap.add_argument("--heldout-scans", type=int, default=120)
    ap.add_argument("--size", default="384x512")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--set", action="append", default=[], help="override for every variant (repeatable)")
    a = parse(ap, train_scans=10, heldout_scans=2, size="128x160", variants="bf16",
              set=[*TINY, "data.tile=96", "data.batch_size=2"])
    from training.loop.run import train
    from training.versions import tracking

    tracking.quiet_mlflow()
    out = Path(a.out)
    proj = out / "train"
    if not (proj / "project.yaml").exists():
        h, w = (int(v) for v in a.size.split("x"))
        synth_project(proj, "baggage", a.train_scans, seed=41, size=(h, w))
    tests = heldout_projects(Path(a.heldout), a.heldout_scans, a.size)
    uri = tracking.default_uri(proj)
    rows = []
    for name in a.variants.split(","):
        recipe, sets = VARIANTS[name]
        sets = ["eval.overlays=0", *a.set, *sets]
        t = time.perf_counter()
        r = train(recipe, proj, sets, quiet=True)
        minutes = (time.perf_counter() - t) / 60
        model = f"models:/{r.registered_model}/{r.version}"
        figs = {level: figures(model, uri, test) for level, test in tests.items()}
        rows.append((name, recipe, sets, minutes, figs))
        print(f"{name:14s} {model} {minutes:5.1f} min | " +
              " | ".join(f"{lv}: {headline(f)}" for lv, f in figs.items()), flush=True)
        with tracking.using(uri):
            import mlflow

            mlflow.set_experiment(experiment_id=tracking.experiment_id("recipe-ablation", uri, proj))
            with mlflow.start_run(run_name=name):
                mlflow.log_params({"recipe": recipe, "overrides": " ".join(sets), "model": model,
                                   "train_run": r.run_id, "train_scans": a.train_scans})
                mlflow.log_metric("train_minutes", minutes)
                for lv, f in figs.items():
                    for k in ("mIoU", "contraband_mIoU", "mPd_pfa1", "mPd_pfa5", "mAUROC"):
                        mlflow.log_metric(f"heldout_{lv}_{k}", f[k])
                mlflow.log_text(per_class_table(figs, figs["easy"]["classes"]), "per_class.md")
                slim = {lv: {k: v for k, v in f.items() if k not in ("scores", "present", "tags")}
                        for lv, f in figs.items()}
                mlflow.log_text(json.dumps(slim, indent=1, default=float), "heldout.json")
    print("\n| variant | change | train min | easy mIoU | easy mPd@1% | hidden mIoU | hidden mPd@1% | "
          "hidden contraband mIoU |")
    print("|---|---|---|---|---|---|---|---|")
    for name, recipe, sets, minutes, f in rows:
        change = " ".join(s for s in sets if s != "eval.overlays=0") or Path(recipe).stem
        print(f"| {name} | {change} | {minutes:.1f} | {f['easy']['mIoU']:.3f} | {f['easy']['mPd_pfa1']:.3f} | "
              f"{f['hidden']['mIoU']:.3f} | {f['hidden']['mPd_pfa1']:.3f} | {f['hidden']['contraband_mIoU']:.3f} |")
    print(f"\nMLflow: experiment recipe-ablation in {proj}/mlflow")


if __name__ == "__main__":
    main()
