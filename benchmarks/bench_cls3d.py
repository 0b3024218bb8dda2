"""3-D classification of CT bags (task cls3d), measured on bags of a seed the training never saw (issue 26).

Builds a project of synthetic CT bags (seed 0), trains a recipe on it (default ``cls3d_cpu``), builds a
held-out project of another seed (7703, every bag measured), and prints what the literature leaves out:
voxel size, network input size, training time, then mAUROC and mean Pd at PFA 1.5 % over the recipe's tags,
and each tag's AUROC. ``--variant NAME:key=value,key=value`` adds runs of the same recipe with overrides
(an ablation: input size, width, pooling, network), each measured the same way.

Run: .venv/bin/python benchmarks/bench_cls3d.py [--variant w8:model.width=8] ...
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np  # noqa: E402
from smoke import parse  # noqa: E402

from datasets.project import Project  # noqa: E402
from datasets.synth.ct import voxel_cm  # noqa: E402
from datasets.synth.ct_project import synth_ct_project  # noqa: E402

HELDOUT_SEED = 7703  # no recipe was tuned on it


def bags(folder: Path, count: int, seed: int, shape: tuple[int, int, int]) -> Path:
    if not (folder / "project.yaml").exists():
        t = time.perf_counter()
        synth_ct_project(folder, count, seed=seed, shape=shape)
        print(f"built {count} CT bags {'x'.join(map(str, shape))} (seed {seed}) in {time.perf_counter() - t:.0f} s",
              flush=True)
    return folder


def measure(model_uri: str, tracking_uri: str, test: Path, pfas=(0.015, 0.05)) -> dict:
    """The model on every bag of ``test`` (all splits)."""
    from training.evaluation.measure import evaluate_items
    from training.evaluation.metrics import pd_key
    from training.inference.predict import load_predictor
    from training.loop.data import load_items

    pred = load_predictor(model_uri, "cpu", tracking_uri)
    with Project.open(test, readonly=True) as p:
        items = [it for s in ("train", "val", "test") for it in load_items(p, s, pred.classes, pred.task_type)]
    res = evaluate_items(pred, items, pfas=pfas)
    per = res["per_class"]
    pd = [per[c].get(pd_key(pfas[0])) for c in per]
    return {"scans": len(items), "mAUROC": _mean(per[c].get("AUROC") for c in per), "mPd": _mean(pd),
            "per_class": {c: per[c].get("AUROC") for c in per}, "pd_per_class": {c: per[c].get(pd_key(pfas[0])) for c in per},
            "seconds_per_scan": res["headline"]["seconds_per_scan"]}


def _mean(xs) -> float:
    v = [float(x) for x in xs if x is not None and not math.isnan(float(x))]
    return float(np.mean(v)) if v else math.nan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipe", default="cls3d_cpu")
    ap.add_argument("--train-bags", type=int, default=300)
    ap.add_argument("--heldout-bags", type=int, default=200)
    ap.add_argument("--size", default="80x96x128", help="ZxYxX voxels of every bag")
    ap.add_argument("--project", default="/tmp/xwb-bench-cls3d", help="work folder (projects are reused)")
    ap.add_argument("--set", action="append", default=[], help="recipe override for every run")
    ap.add_argument("--variant", action="append", default=[], help="NAME:key=value,key=value (another run)")
    ap.add_argument("--out", default="", help="write the figures as JSON here")
    ap.add_argument("--variants-only", action="store_true", help="leave out the recipe's own run")
    a = parse(ap, argv, train_bags=6, heldout_bags=4, size="32x32x32", recipe="cls3d_tiny", set=["optim.epochs=1"])
    from training.loop.run import train
    from training.versions.tracking import default_uri

    shape = tuple(int(v) for v in a.size.split("x"))
    root = Path(a.project)
    train_p = bags(root / f"train-{a.train_bags}-{a.size}", a.train_bags, 0, shape)  # type: ignore[arg-type]
    held = bags(root / f"heldout-{a.heldout_bags}-{a.size}", a.heldout_bags, HELDOUT_SEED, shape)  # type: ignore[arg-type]
    # NAME:key=value,key=value; a value may be a list ([a,b]): split only where the next key begins
    runs = ([] if a.variants_only else [("recipe", [])]) + [
        (v.split(":", 1)[0], re.split(r",(?=[\w.]+=)", v.split(":", 1)[1])) for v in a.variant]
    mm = voxel_cm(shape) * 10  # type: ignore[arg-type]
    rows = []
    for name, extra in runs:
        t = time.perf_counter()
        res = train(a.recipe, train_p, overrides=[*a.set, *extra, f"mlflow.run_name={name}"], quiet=True)
        secs = time.perf_counter() - t
        from training.recipes.config import load_config

        cfg = load_config(a.recipe, [*a.set, *extra])
        f = measure(f"models:/{res.registered_model}/{res.version}", default_uri(train_p), held)
        s = cfg.data.volume_size
        row = {"run": name, "overrides": extra, "network": f"{cfg.model.arch}/{cfg.model.encoder} width "
               f"{cfg.model.width or 'own'} pool {cfg.model.pool}", "input": f"{s}^3",
               "input_voxel_mm": round(mm * max(shape) / s, 2), "bag_voxel_mm": mm, "train_s": round(secs),
               "epochs": cfg.optim.epochs, **f}
        rows.append(row)
        print(f"{name}: {row['network']}, bag {a.size} voxels of {mm:g} mm -> input {s}^3 "
              f"({row['input_voxel_mm']} mm voxels); trained {secs / 60:.1f} min ({cfg.optim.epochs} epochs, "
              f"{a.train_bags} bags); held-out {f['scans']} bags (seed {HELDOUT_SEED}): mAUROC {f['mAUROC']:.3f}, "
              f"mean Pd at PFA 1.5 % {f['mPd']:.3f}; " + ", ".join(f"{c} {v:.3f}" for c, v in f["per_class"].items()
                                                                  if v is not None), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
