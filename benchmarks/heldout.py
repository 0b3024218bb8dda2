"""Held-out synthetic test sets and the figures the model benchmarks report (issue 16), shared by
``bench_learning_curve.py``, ``bench_recipes.py``, ``bench_tags.py`` and ``bench_active.py``.

The held-out projects are baggage scans of seeds no recipe was tuned on, one project per occlusion level
("easy": threats where the bag is thin, "hidden": under a steel plate), every scan measured. They are built
once under ``--heldout`` and reused, so every benchmark measures on the same scans.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from datasets.project import Project  # noqa: E402
from datasets.synth.build import synth_project  # noqa: E402
from datasets.synth.objects import CONTRABAND  # noqa: E402

LEVELS = {"easy": 7701, "hidden": 7702}  # occlusion level -> seed; no recipe was tuned on these


def heldout_projects(root: Path, scans: int = 120, size: str = "384x512") -> dict[str, Path]:
    """One project per occlusion level under ``root`` (built when missing; a folder per scan count and size)."""
    h, w = (int(v) for v in size.split("x"))
    out = {}
    for level, seed in LEVELS.items():
        folder = Path(root) / f"{level}-{scans}-{size}"
        if not (folder / "project.yaml").exists():
            print(f"building held-out {level}: {scans} scans {size}, seed {seed}", flush=True)
            synth_project(folder, "baggage", scans, seed=seed, size=(h, w), occlusion=level)
        out[level] = folder
    return out


def figures(model_uri: str, tracking_uri: str, test: Path) -> dict:
    """A model measured on every scan of ``test``: headline, per class, and the raw per-scan scores."""
    from training.evaluation.measure import evaluate_items
    from training.inference.predict import load_predictor
    from training.loop.data import load_items

    pred = load_predictor(model_uri, "cpu", tracking_uri)
    with Project.open(test, readonly=True) as p:
        items = [it for s in ("train", "val", "test") for it in load_items(p, s, pred.classes, pred.task_type)]
        tags = {r.id: list(r.tags) for r in p.store.images()}
    res = evaluate_items(pred, items, pfas=(0.01, 0.05))
    per = res["per_class"]
    f = {"scans": len(items), "per_class": per, "classes": pred.classes,
         "scores": res["scores"], "present": res["present"], "tags": [tags[it.image_id] for it in items],
         **{k: v for k, v in res["headline"].items()}}
    if pred.task == "seg":
        f["contraband_mIoU"] = _nanmean(per[c]["IoU"] for c in per if c in CONTRABAND)
        f["contraband_mPd_pfa1"] = _nanmean(per[c].get("Pd_pfa1") for c in per if c in CONTRABAND)
        f["mAUROC"] = _nanmean(per[c].get("AUROC") for c in per)
    return f


def _nanmean(values) -> float:
    v = [x for x in values if x is not None and not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def headline(f: dict) -> str:
    keys = ("mIoU", "contraband_mIoU", "mPd_pfa1", "mPd_pfa5", "mAUROC")
    return "  ".join(f"{k} {f[k]:.3f}" for k in keys if k in f)


class Pool:
    """The train split of a project and its true regions, labelled or not on demand (an annotator's work,
    undone and redone without rebuilding the project)."""

    def __init__(self, proj: Path):
        self.proj = proj
        with Project.open(proj) as p:
            self.ids = [r.id for r in p.store.images(split="train")]
            self.truth = {i: p.store.regions(i, state="accepted") for i in self.ids}
            labelled = {r.id for r in p.store.images(split="train") if r.status in ("done", "reviewed")}
        self.labelled: set[int] = labelled

    def label_only(self, keep: set[int]) -> None:
        with Project.open(self.proj) as p:
            for i in self.ids:
                if i in keep and i not in self.labelled:
                    p.store.add_regions(i, [r.copy(id=None) for r in self.truth[i]])
                    p.store.update_image(i, status="done")
                elif i not in keep and i in self.labelled:
                    for r in p.store.regions(i, include_rejected=True):
                        p.store.delete_region(r.id)
                    p.store.update_image(i, status="new")
        self.labelled = set(keep)


def per_class_table(figs: dict[str, dict], classes: list[str]) -> str:
    """Markdown: per class, IoU / Pd at PFA 1 % / AUROC / scans with it, for each held-out level."""
    levels = list(figs)
    head = "| class | " + " | ".join(f"{lv}: IoU | {lv}: Pd@1% | {lv}: AUROC | {lv}: scans" for lv in levels) + " |"
    rows = [head, "|" + "---|" * (1 + 4 * len(levels))]
    fmt = lambda v: "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"  # noqa: E731
    for c in classes:
        cells = []
        for lv in levels:
            r = figs[lv]["per_class"].get(c, {})
            cells += [fmt(r.get("IoU")), fmt(r.get("Pd_pfa1")), fmt(r.get("AUROC")), str(r.get("scans_with", 0))]
        rows.append(f"| {c}{' (contraband)' if c in CONTRABAND else ''} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def save_figure(fig, out: Path, title: str) -> None:
    """Title (wrapped: a recipe's overrides make long titles), tight layout, PNG, closed."""
    import textwrap

    import matplotlib.pyplot as plt

    fig.suptitle("\n".join(textwrap.wrap(title, 120)), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def style_axis(ax, ylabel: str) -> None:
    """A learning-curve panel: labelled scans along, the figure up, a light grid, the legend."""
    ax.set_xlabel("labelled scans")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
