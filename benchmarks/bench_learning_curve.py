"""How many labelled scans a lab needs (issue 16): the default recipe trained on growing shares of a
project, each model measured on held-out scans of other seeds (easy and hidden occlusion, every scan).

A synthetic baggage project is the pool: its train split is labelled in a fixed random order, 10, 20, 40,
80, 160 scans (nested: each share holds the one before); its val split stays labelled (early stopping and
operating points). Each share trains the recipe from scratch with the same budget (epochs x crops), so the
curve shows what labels buy, not what more steps buy. Printed, plotted to ``--plot``, the largest share's
per-class table written to ``--table``, and logged to the pool's MLflow store (experiment
"learning-curve": a run per share with its held-out figures, and a summary run with the plot and table).

Run: .venv/bin/python benchmarks/bench_learning_curve.py --out /tmp/lc [--sizes 10,20,40,80,160]
     [--recipe configs/seg_unet_resnet18.yaml] [--set optim.epochs=30 ...]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from heldout import Pool, figures, headline, heldout_projects, per_class_table, save_figure, style_axis
from smoke import TINY, parse

from datasets.synth.build import synth_project


def plot(points: list[tuple[int, dict]], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ns = [n for n, _ in points]
    for ax, key, label in ((axes[0], "mIoU", "held-out mIoU"), (axes[1], "mPd_pfa1", "held-out mean Pd at PFA 1 %")):
        for level, style in (("easy", "o-"), ("hidden", "s--")):
            ax.plot(ns, [f[level][key] for _, f in points], style, label=level)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.set_ylim(0, 1)
        style_axis(ax, label)
    save_figure(fig, out, title)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/xwb-learning-curve", help="folder for the pool project (reused when there)")
    ap.add_argument("--heldout", default="/tmp/xwb-heldout", help="folder of the held-out projects (reused)")
    ap.add_argument("--pool-scans", type=int, default=230, help="scans of the pool project (~70 %% train)")
    ap.add_argument("--heldout-scans", type=int, default=120, help="scans per occlusion level")
    ap.add_argument("--size", default="384x512")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--sizes", default="10,20,40,80,160")
    ap.add_argument("--recipe", default="configs/seg_unet_resnet18.yaml")
    ap.add_argument("--set", action="append", default=[], help="recipe override (repeatable)")
    ap.add_argument("--plot", default="docs/learning_curve.png")
    ap.add_argument("--table", default="docs/learning_curve.md")
    a = parse(ap, pool_scans=12, heldout_scans=2, size="128x160", sizes="2,4", recipe="configs/seg_tiny.yaml",
              set=TINY)
    from training.loop.run import train
    from training.versions import tracking

    tracking.quiet_mlflow()
    t0 = time.perf_counter()
    out = Path(a.out)
    proj = out / "pool"
    if not (proj / "project.yaml").exists():
        h, w = (int(v) for v in a.size.split("x"))
        synth_project(proj, "baggage", a.pool_scans, seed=a.seed, size=(h, w))
    tests = heldout_projects(Path(a.heldout), a.heldout_scans, a.size)
    pool = Pool(proj)
    sizes = [int(s) for s in a.sizes.split(",")]
    if sizes[-1] > len(pool.ids):
        raise SystemExit(f"the pool's train split has {len(pool.ids)} scans; {sizes[-1]} asked")
    order = np.random.default_rng(0).permutation(pool.ids).tolist()
    uri = tracking.default_uri(proj)
    points: list[tuple[int, dict]] = []
    print(f"pool: {len(pool.ids)} train scans; held-out {a.heldout_scans} scans per level; sizes {sizes}", flush=True)
    for n in sizes:
        pool.label_only(set(order[:n]))
        t = time.perf_counter()
        r = train(a.recipe, proj, ["eval.overlays=0", *a.set], quiet=True)
        train_s = time.perf_counter() - t
        model = f"models:/{r.registered_model}/{r.version}"
        figs = {level: figures(model, uri, test) for level, test in tests.items()}
        points.append((n, figs))
        print(f"n={n:4d} {model} trained in {train_s / 60:.1f} min | " +
              " | ".join(f"{lv}: {headline(f)}" for lv, f in figs.items()), flush=True)
        with tracking.using(uri):
            import mlflow

            mlflow.set_experiment(experiment_id=tracking.experiment_id("learning-curve", uri, proj))
            with mlflow.start_run(run_name=f"{Path(a.recipe).stem} n={n}"):
                mlflow.log_params({"recipe": a.recipe, "sets": " ".join(a.set), "labelled_scans": n,
                                   "model": model, "train_run": r.run_id, "pool_seed": a.seed})
                mlflow.log_metric("train_minutes", train_s / 60)
                for lv, f in figs.items():
                    for k in ("mIoU", "contraband_mIoU", "mPd_pfa1", "mPd_pfa5", "mAUROC"):
                        mlflow.log_metric(f"heldout_{lv}_{k}", f[k])
    title = (f"{Path(a.recipe).stem} {' '.join(a.set)}: synthetic baggage {a.size}, pool seed {a.seed}; held-out "
             f"seeds {', '.join(map(str, (7701, 7702)))}, {a.heldout_scans} scans per level")
    Path(a.plot).parent.mkdir(parents=True, exist_ok=True)
    plot(points, Path(a.plot), title)
    n_max, last = points[-1]
    lines = [f"# Learning curve: {Path(a.recipe).stem}", "", title, "",
             "| labelled scans | easy mIoU | easy mPd@1% | hidden mIoU | hidden mPd@1% | hidden contraband mIoU |",
             "|---|---|---|---|---|---|"]
    for n, f in points:
        lines.append(f"| {n} | {f['easy']['mIoU']:.3f} | {f['easy']['mPd_pfa1']:.3f} | {f['hidden']['mIoU']:.3f} | "
                     f"{f['hidden']['mPd_pfa1']:.3f} | {f['hidden']['contraband_mIoU']:.3f} |")
    lines += ["", f"Per class, the model trained on {n_max} scans:", "",
              per_class_table(last, last["easy"]["classes"]), ""]
    Path(a.table).write_text("\n".join(lines))
    print("\n" + "\n".join(lines))
    with tracking.using(uri):
        import mlflow

        mlflow.set_experiment(experiment_id=tracking.experiment_id("learning-curve", uri, proj))
        with mlflow.start_run(run_name=f"{Path(a.recipe).stem}: curve") as run:
            mlflow.log_params({"recipe": a.recipe, "sets": " ".join(a.set), "sizes": a.sizes, "pool_seed": a.seed})
            for n, f in points:
                for lv in f:
                    mlflow.log_metric(f"heldout_{lv}_mIoU", f[lv]["mIoU"], step=n)
                    mlflow.log_metric(f"heldout_{lv}_mPd_pfa1", f[lv]["mPd_pfa1"], step=n)
            mlflow.log_artifact(a.plot)
            mlflow.log_artifact(a.table)
            slim = [(n, {lv: {k: v for k, v in f[lv].items() if k not in ("scores", "present", "tags")} for lv in f})
                    for n, f in points]
            mlflow.log_text(json.dumps(slim, indent=1, default=float), "curve.json")
    print(f"\nlogged: MLflow run {run.info.run_id} (experiment learning-curve) in {proj}/mlflow; "
          f"{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
