"""Image tags three ways (issue 16): a whole-scan classifier against tags derived from a segmentation model.

Every registered version of a project (by default the demo's ``baggage-cls`` and ``baggage-seg``) is
measured on the held-out scans of ``heldout.py`` (easy and hidden occlusion):
- a classifier (task cls) scores each tag itself;
- a segmentation model's tag score is the highest pixel probability of any class that implies the tag
  (the taxonomy's ``implies``: firearm and knife imply weapon and contraband, ...).
Printed per tag: AUROC and Pd at PFA 1 % against the scans' true tags, and the mean over the tags both
kinds can say (a segmentation model cannot say ``undeclared_goods`` or ``clear``). Logged to the project's
MLflow store (experiment "tag-comparison").

Run: .venv/bin/python benchmarks/bench_tags.py [--project demo/baggage] [--versions baggage-seg/4 baggage-cls/2]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from heldout import figures, heldout_projects
from smoke import TINY, parse

from datasets.taxonomy import Taxonomy, default_taxonomy_path
from training.evaluation.metrics import ap_auroc, pd_at_pfa


def tag_scores(f: dict, task: str, tax: Taxonomy) -> tuple[list[str], np.ndarray]:
    """(tags, (scans, tags) scores) of one model's held-out run."""
    S = np.array(f["scores"], np.float64)
    if task == "cls":
        return list(f["classes"]), S
    rows = [tax.implied_tags(dict(zip(f["classes"], s))) for s in S]
    tags = [t for t in tax.tags if t in rows[0]]
    return tags, np.array([[r[t] for t in tags] for r in rows])


def measure(tags: list[str], S: np.ndarray, truth: list[list[str]]) -> dict[str, dict]:
    out = {}
    for k, t in enumerate(tags):
        P = np.array([t in tr for tr in truth])
        _, auc = ap_auroc(S[:, k], P)
        out[t] = {"AUROC": auc, "Pd_pfa1": pd_at_pfa(S[:, k], P, 0.01)[0], "scans_with": int(P.sum())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", default="demo/baggage")
    ap.add_argument("--versions", nargs="*", help="NAME/VERSION ... (default: every registered version)")
    ap.add_argument("--heldout", default="/tmp/xwb-heldout")
    ap.add_argument("--heldout-scans", type=int, default=120)
    ap.add_argument("--size", default="384x512")
    a = parse(ap, heldout_scans=2, size="128x160")
    if a.smoke and not Path(a.project, "project.yaml").exists():  # a project with one tiny version to measure
        from datasets.synth.build import synth_project
        from training.loop.run import train

        synth_project(Path(a.project), "baggage", 8, seed=3, size=(128, 160))
        train("configs/seg_tiny.yaml", Path(a.project), TINY, quiet=True)
    from mlflow import MlflowClient

    from training.versions import tracking

    tracking.quiet_mlflow()
    proj = Path(a.project)
    uri = tracking.default_uri(proj)
    tax = Taxonomy.load(default_taxonomy_path())
    with tracking.using(uri):
        c = MlflowClient()
        if a.versions:
            picks = [tuple(v.split("/")) for v in a.versions]
        else:
            picks = sorted(((m.name, v.version) for m in c.search_registered_models()
                            for v in c.search_model_versions(f"name='{m.name}'")), key=lambda x: (x[0], int(x[1])))
        info = {(n, v): c.get_model_version(n, v) for n, v in picks}
    tests = heldout_projects(Path(a.heldout), a.heldout_scans, a.size)
    results = {}
    for (name, ver), mv in info.items():
        task = mv.tags.get("task", "")
        if task not in ("seg", "cls"):
            continue
        per_level = {}
        for level, test in tests.items():
            f = figures(f"models:/{name}/{ver}", uri, test)
            tags, S = tag_scores(f, task, tax)
            per_level[level] = (measure(tags, S, f["tags"]), f)
        results[(name, ver, task, mv.tags.get("recipe", ""))] = per_level
    common = [t for t in tax.tags if all(t in pl[lv][0] for pl in results.values() for lv in pl)]
    print(f"\nheld-out tags, AUROC (Pd at PFA 1 %); mean over {', '.join(common)}")
    for level in tests:
        print(f"\n{level}:")
        print("| version | task | recipe | " + " | ".join(common) + " | mAUROC | mPd@1% |")
        print("|---|---|---|" + "---|" * (len(common) + 2))
        for (name, ver, task, recipe), pl in results.items():
            m = pl[level][0]
            cells = [f"{m[t]['AUROC']:.2f} ({m[t]['Pd_pfa1']:.2f})" for t in common]
            mauc = float(np.nanmean([m[t]["AUROC"] for t in common]))
            mpd = float(np.nanmean([m[t]["Pd_pfa1"] for t in common]))
            print(f"| {name}/{ver} | {task} | {recipe} | " + " | ".join(cells) + f" | {mauc:.3f} | {mpd:.3f} |")
    with tracking.using(uri):
        import mlflow

        mlflow.set_experiment(experiment_id=tracking.experiment_id("tag-comparison", uri, proj))
        for (name, ver, task, recipe), pl in results.items():
            with mlflow.start_run(run_name=f"{name}/{ver} tags on held-out"):
                mlflow.log_params({"model": f"models:/{name}/{ver}", "task": task, "recipe": recipe,
                                   "tags_from": "classifier" if task == "cls" else "segmentation (implied tags)"})
                for level, (m, f) in pl.items():
                    aucs = [m[t]["AUROC"] for t in common]
                    mlflow.log_metric(f"heldout_{level}_tag_mAUROC", float(np.nanmean(aucs)))
                    for t in common:
                        if not math.isnan(m[t]["AUROC"]):
                            mlflow.log_metric(f"heldout_{level}_AUROC_{t}", m[t]["AUROC"])
                    if task == "seg":
                        for k in ("mIoU", "contraband_mIoU", "mPd_pfa1", "mPd_pfa5"):
                            mlflow.log_metric(f"heldout_{level}_{k}", f[k])
    print(f"\nlogged to {uri} (experiment tag-comparison)")


if __name__ == "__main__":
    main()
