"""What to label next, measured (issue 14): a learning curve with scans labelled in the model's order of
uncertainty against scans labelled at random.

A synthetic baggage project (the pool: its train split, unlabelled at first; its val split labelled for
early stopping) and a held-out project of another seed (every scan measured). Both strategies start from
the same ``--start`` random labelled scans; each round "labels" ``--step`` more pool scans (their true
regions are written into the store, status done, as an annotator would) and trains the recipe anew:
- uncertainty: the scans the previous round's model is least sure of (``training/inference/queue.py``, the same
  ranking as ``xwb queue`` and the workbench's Models panel);
- random: scans drawn at random (``--random-seeds`` draws, averaged: one draw is noise).
Each model is measured on the held-out project: mIoU and mean Pd at PFA 5 %. The curves (figure against
labelled scans) are printed, plotted to ``--plot`` and logged to the project's MLflow store (experiment
"learning-curve": metrics per step and the plot).

Run: .venv/bin/python benchmarks/bench_active.py --out /tmp/active [--pool-scans 80] [--start 8] [--step 8]
     [--rounds 4] [--recipe configs/seg_fpn_mobilenet.yaml] [--set optim.epochs=10 ...]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from heldout import Pool, save_figure, style_axis  # noqa: E402
from smoke import TINY, parse  # noqa: E402

from datasets.project import Project  # noqa: E402
from datasets.synth.build import synth_project  # noqa: E402


def held_out_figures(model_uri: str, proj: Path, test: Path) -> dict:
    from training.evaluation.measure import evaluate_items
    from training.inference.predict import load_predictor
    from training.loop.data import load_items
    from training.versions import tracking

    pred = load_predictor(model_uri, "cpu", tracking.default_uri(proj))
    with Project.open(test, readonly=True) as p:
        items = [it for s in ("train", "val", "test") for it in load_items(p, s, pred.classes, pred.task_type)]
    res = evaluate_items(pred, items, pfas=(0.01, 0.05))
    return {"mIoU": res["headline"]["mIoU"], "mPd5": res["headline"].get("mPd_pfa5", float("nan")),
            "mPd1": res["headline"].get("mPd_pfa1", float("nan")), "scans": len(items),
            "per_class": {c: {k: row.get(k) for k in ("IoU", "Pd_pfa1", "Pd_pfa5", "scans_with")}
                          for c, row in res["per_class"].items()}}


def train_round(recipe: str, proj: Path, sets: list[str]) -> str:
    from training.loop.run import train

    r = train(recipe, proj, ["eval.overlays=0", *sets], quiet=True)
    return f"models:/{r.registered_model}/{r.version}"


def rank(model_uri: str, proj: Path, candidates: list[int]) -> list[int]:
    from training.inference.predict import load_predictor
    from training.inference.queue import rank_scans
    from training.versions import tracking

    pred = load_predictor(model_uri, "cpu", tracking.default_uri(proj))
    with Project.open(proj, readonly=True) as p:
        ranked, _ = rank_scans(pred, p, [p.store.image(i) for i in candidates])
    return [r.image_id for r in ranked]


def plot(curves: dict, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "mIoU", "held-out mIoU"), (axes[1], "mPd5", "held-out mean Pd at PFA 5 %")):
        for name, style in (("uncertainty", "o-"), ("random", "s--")):
            pts = curves[name]
            ns = [n for n, _ in pts]
            mean = [np.mean([f[key] for f in fs]) for _, fs in pts]
            ax.plot(ns, mean, style, label=name + (" (mean of draws)" if name == "random" else ""))
            if name == "random" and max(len(fs) for _, fs in pts) > 1:
                lo = [min(f[key] for f in fs) for _, fs in pts]
                hi = [max(f[key] for f in fs) for _, fs in pts]
                ax.fill_between(ns, lo, hi, alpha=0.2, label="random: range of draws")
        style_axis(ax, label)
    save_figure(fig, out, title)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/xwb-active", help="a new folder for the projects")
    ap.add_argument("--pool-scans", type=int, default=80, help="scans of the project (its train split is the pool)")
    ap.add_argument("--test-scans", type=int, default=40)
    ap.add_argument("--size", default="192x256")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--test-seed", type=int, default=7707)
    ap.add_argument("--start", type=int, default=8)
    ap.add_argument("--step", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--random-seeds", type=int, default=2)
    ap.add_argument("--recipe", default="configs/seg_fpn_mobilenet.yaml")
    ap.add_argument("--set", action="append", default=[], help="recipe override (repeatable)")
    ap.add_argument("--plot", default="docs/learning_curve_active.png")
    a = parse(ap, pool_scans=12, test_scans=3, size="128x160", start=2, step=2, rounds=1, random_seeds=1,
              recipe="configs/seg_tiny.yaml", set=TINY)
    out = Path(a.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    h, w = (int(v) for v in a.size.split("x"))
    t0 = time.perf_counter()
    proj = synth_project(out / "pool", "baggage", a.pool_scans, seed=a.seed, size=(h, w))
    test = synth_project(out / "heldout", "baggage", a.test_scans, seed=a.test_seed, size=(h, w))
    pool = Pool(proj)
    rng = np.random.default_rng(0)
    start = set(rng.choice(pool.ids, a.start, replace=False).tolist())
    sizes = [a.start + a.step * r for r in range(a.rounds + 1)]
    if sizes[-1] > len(pool.ids):
        raise SystemExit(f"the pool has {len(pool.ids)} scans; {sizes[-1]} asked")
    print(f"pool {len(pool.ids)} scans, held-out {a.test_scans}; labelled sizes {sizes}", flush=True)

    def step(labelled: set[int], name: str) -> tuple[str, dict]:
        pool.label_only(labelled)
        t = time.perf_counter()
        uri = train_round(a.recipe, proj, a.set)
        f = held_out_figures(uri, proj, test)
        print(f"{name:12s} n={len(labelled):3d}  {uri}  mIoU {f['mIoU']:.3f}  mPd@5% {f['mPd5']:.3f}  "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
        return uri, f

    first_uri, first = step(start, "start")
    curves = {"uncertainty": [(a.start, [first])], "random": [(a.start, [first])]}
    labelled, uri = set(start), first_uri
    for n in sizes[1:]:
        order = rank(uri, proj, [i for i in pool.ids if i not in labelled])
        labelled |= set(order[: a.step])
        uri, f = step(labelled, "uncertainty")
        curves["uncertainty"].append((n, [f]))
    for d in range(a.random_seeds):
        r = np.random.default_rng(100 + d)
        labelled = set(start)
        for k, n in enumerate(sizes[1:], start=1):
            rest = [i for i in pool.ids if i not in labelled]
            labelled |= set(r.choice(rest, a.step, replace=False).tolist())
            _, f = step(labelled, f"random#{d + 1}")
            pts = curves["random"][k][1] if len(curves["random"]) > k else None
            if pts is None:
                curves["random"].append((n, [f]))
            else:
                pts.append(f)
    title = (f"{Path(a.recipe).stem} {' '.join(a.set)}: synthetic baggage {a.size}, pool seed {a.seed}, "
             f"held-out seed {a.test_seed} ({first['scans']} scans)")
    plot_path = Path(a.plot)
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot(curves, plot_path, title)
    print("\nlabelled | uncertainty mIoU / mPd@5% | random mIoU / mPd@5% (mean of draws)")
    for (n, fu), (_, fr) in zip(curves["uncertainty"], curves["random"]):
        print(f"{n:8d} | {fu[0]['mIoU']:.3f} / {fu[0]['mPd5']:.3f}            | "
              f"{np.mean([f['mIoU'] for f in fr]):.3f} / {np.mean([f['mPd5'] for f in fr]):.3f}  "
              f"(draws: {', '.join(format(f['mIoU'], '.3f') for f in fr)})")
    from training.versions import tracking

    tracking.quiet_mlflow()
    with tracking.using(tracking.default_uri(proj)):
        import mlflow

        mlflow.set_experiment(experiment_id=tracking.experiment_id("learning-curve", tracking.default_uri(proj), proj))
        with mlflow.start_run(run_name="uncertainty vs random") as run:
            mlflow.log_params({"recipe": a.recipe, "sets": " ".join(a.set), "start": a.start, "step": a.step,
                               "rounds": a.rounds, "random_seeds": a.random_seeds, "pool_seed": a.seed,
                               "heldout_seed": a.test_seed, "size": a.size})
            for name, pts in curves.items():
                for n, fs in pts:
                    mlflow.log_metric(f"heldout_mIoU_{name}", float(np.mean([f["mIoU"] for f in fs])), step=n)
                    mlflow.log_metric(f"heldout_mPd5_{name}", float(np.mean([f["mPd5"] for f in fs])), step=n)
            mlflow.log_artifact(str(plot_path))
            mlflow.log_text(json.dumps(curves, indent=1), "curves.json")
            print(f"\nlogged: MLflow run {run.info.run_id} (experiment learning-curve) in {proj}/mlflow; "
                  f"plot {plot_path}; {time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
