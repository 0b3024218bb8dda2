"""``xwb compare``: versions side by side on one frozen split, as a table, an HTML report and an MLflow run."""
from __future__ import annotations

import base64
import html
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.safefs import atomic_write
from training.evaluation import bootstrap
from training.evaluation.plots import _plt
from training.evaluation.review import Evaluation, evaluate, key_metrics
from training.tasks.base import Task
from training.versions import registry, tracking


@dataclass
class Comparison:
    rows: list[dict]
    report: Path
    run_id: str
    table: str
    differences: list[dict]   # per version against the baseline: {"version", "baseline", metric: Difference}
    notes: list[str]          # why some figures of this split mean less than they say


def _baseline(vs: list[str], aliases: dict[str, list[str]]) -> str:
    """What the others are measured against: the champion when it is compared, else the first version."""
    return next((v for v in vs if "champion" in aliases.get(v, [])), vs[0])


def differences(evals: list[Evaluation], keys: list[str], base: str) -> list[dict]:
    b = next(e for e in evals if e.ref.version == base)
    out = []
    for e in evals:
        if e is b or e.sample is None or b.sample is None:
            continue
        row = {"version": e.ref.version, "baseline": base}
        for k in keys:
            d = bootstrap.paired(k, e.sample, b.sample)
            if d is not None:
                row[k] = d
        out.append(row)
    return out


def _versions(name: str, versions: list[str] | None) -> list[str]:
    from mlflow import MlflowClient

    have = sorted((str(v.version) for v in MlflowClient().search_model_versions(f"name='{name}'")), key=int)
    if not have:
        raise XwbError(f"no registered model named {name!r} (or it has no versions)")
    if not versions:
        return have
    missing = [v for v in versions if v not in have]
    if missing:
        raise XwbError(f"{name} has no version {', '.join(missing)} (versions: {', '.join(have)})")
    return list(versions)


def compare(name: str, project_path: str | Path, versions: list[str] | None = None, split: str = "test",
            tracking_uri: str | None = None, out: Path | None = None, quiet: bool = False) -> Comparison:
    import mlflow
    from mlflow import MlflowClient

    folder = Path(project_path)
    uri = tracking.resolve_uri(tracking_uri, folder)
    tracking.quiet_mlflow()
    with tracking.using(uri):
        tracking.check_server(uri)
        vs = _versions(name, [str(v) for v in versions] if versions else None)
        evals = [evaluate(f"models:/{name}/{v}", folder, split, quiet=quiet) for v in vs]
        kinds = {e.task for e in evals}
        if len(kinds) > 1:
            raise XwbError(f"{name}: versions mix tasks ({', '.join(sorted(kinds))}); compare one task at a time")
        digests = {e.digest for e in evals}
        task = evals[0].task_type
        c = MlflowClient()
        aliases = registry.aliases_of(name)
        rows = []
        keys = key_metrics(task)
        for v, e in zip(vs, evals):
            mv = c.get_model_version(name, v)
            ci = {k: bootstrap.interval(k, e.sample) for k in keys} if e.sample is not None else {}
            op = _at_operating_point(mv.tags, e) if task.detection else ""
            rows.append({"version": v, "aliases": ",".join(aliases.get(v, [])), "recipe": mv.tags.get("recipe", ""),
                         "model": mv.tags.get("architecture", ""),
                         "trained_on": mv.tags.get("dataset_digest", "")[:12],
                         **{k: e.headline.get(k, math.nan) for k in keys},
                         "ci": {k: i for k, i in ci.items() if i is not None}, "op": op,
                         "per": task.seconds_per,
                         "s_per_scan": e.headline.get("seconds_per_scan", math.nan), "eval_run": e.run_id})
        base = _baseline(vs, aliases)
        diffs = differences(evals, keys, base)
        notes = bootstrap.small_split_notes(evals[0].sample, evals[0].classes) if evals[0].sample else []
        table = format_table(rows, keys)
        dtable = format_differences(diffs, keys)
        if not quiet:
            print(f"\n{name} on the {split} split (digest {evals[0].digest[:12]}, {evals[0].scans} scans; "
                  f"[95 % bootstrap interval])\n{table}")
            if dtable:
                print(f"\npaired against v{base} (same scans resampled; 'within noise': the interval holds 0)\n{dtable}")
            for n in notes:
                print(f"note: {n}")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(out) if out else folder / "reports" / f"compare-{name}-{split}-{stamp}"
        out.mkdir(parents=True, exist_ok=True)
        report = write_html(out, name, split, evals, rows, task, next(iter(digests)), diffs, notes)
        exp_id = c.get_run(evals[0].run_id).info.experiment_id
        with mlflow.start_run(experiment_id=exp_id, run_name=f"compare {name} v{','.join(vs)} {split}") as run:
            mlflow.set_tags({"xwb.kind": "comparison", "xwb.model_name": name, "xwb.versions": ",".join(vs),
                             "xwb.split": split, "xwb.dataset_digest": evals[0].digest,
                             "mlflow.note.content": f"**{name}** on `{split}` (digest `{evals[0].digest[:12]}`, "
                                                    f"{evals[0].scans} scans; [95 % bootstrap interval])\n\n"
                                                    + markdown_table(rows, keys)
                                                    + (f"\n\nPaired against v{base}:\n\n```\n{dtable}\n```" if dtable else "")
                                                    + "".join(f"\n\n- {n}" for n in notes)})
            for r in rows:
                mlflow.log_metrics({f"v{r['version']}_{k}": float(r[k]) for k in keys + ["s_per_scan"]
                                    if not math.isnan(r[k])})
                for k, i in r["ci"].items():
                    if not math.isnan(i.lo):
                        mlflow.log_metrics({f"v{r['version']}_{k}_lo95": i.lo, f"v{r['version']}_{k}_hi95": i.hi})
            mlflow.log_artifacts(str(out), "comparison")
            run_id = run.info.run_id
    if not quiet:
        print(f"report: {report}\ncomparison run: {run_id}")
    return Comparison(rows, report, run_id, table, diffs, notes)


def _at_operating_point(vtags: dict, e: Evaluation) -> str:
    """'Pd / PFA' on this split when every class alarms above the version's own operating point."""
    import json

    from training.evaluation.metrics import at_thresholds

    try:
        op = json.loads(vtags.get("operating_point", ""))
        thresholds, label = op["thresholds"], f"PFA {op['pfa'] * 100:g} % on val"
    except (ValueError, KeyError, TypeError):
        thresholds, label = {}, "flat 0.5"
    if not len(e.scores):
        return ""
    m = at_thresholds(e.scores, e.present, e.classes, thresholds)
    return f"{_f(m['Pd'], 2)} / {_f(m['PFA'], 3)} ({label})"


def _per(rows: list[dict]) -> str:
    return rows[0].get("per", "scan") if rows else "scan"


def _cell(r: dict, k: str) -> str:
    i = r.get("ci", {}).get(k)
    return i.text(3) if i is not None else _f(r[k], 3)


def format_differences(diffs: list[dict], keys: list[str]) -> str:
    if not diffs:
        return ""
    head = ["version", *[f"Δ{k}" for k in keys]]
    lines = [[f"v{d['version']}", *[d[k].text(3) if k in d else "n/a" for k in keys]] for d in diffs]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*["-" * w for w in widths])] + [fmt.format(*row) for row in lines])


def format_table(rows: list[dict], keys: list[str]) -> str:
    op = any(r.get("op") for r in rows)
    head = ["version", "aliases", "recipe", "model", "trained_on", *keys, *(["Pd / PFA at op. point"] if op else []),
            f"s/{_per(rows)}"]
    lines = [[r["version"], r["aliases"] or "-", r["recipe"], r["model"], r["trained_on"],
              *[_cell(r, k) for k in keys], *([r.get("op") or "-"] if op else []), _f(r["s_per_scan"], 2)]
             for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*["-" * w for w in widths])] + [fmt.format(*row) for row in lines])


def markdown_table(rows: list[dict], keys: list[str]) -> str:
    op = any(r.get("op") for r in rows)
    head = ["version", "aliases", "recipe", "model", "trained on", *keys, *(["Pd / PFA at op. point"] if op else []),
            f"s/{_per(rows)}"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join([r["version"], r["aliases"] or "-", r["recipe"], r["model"], f"`{r['trained_on']}`",
                                      *[_cell(r, k) for k in keys], *([r.get("op") or "-"] if op else []),
                                      _f(r["s_per_scan"], 2)]) + " |")
    return "\n".join(out)


def _f(v, nd: int = 4) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"


def _curves(out: Path, evals: list[Evaluation], split: str) -> tuple[Path, Path]:
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _plt()
    classes = [c for i, c in enumerate(evals[0].classes)
               if evals[0].present[:, i].any() and not evals[0].present[:, i].all()]
    n = max(1, len(classes))
    cols = min(4, n)
    rows = math.ceil(n / cols)
    paths = []
    for kind in ("roc", "pr"):
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.axis("off")
        for ax, cname in zip(axes.flat, classes):
            for e in evals:
                i = e.classes.index(cname)
                y, s = e.present[:, i].astype(int), e.scores[:, i]
                if kind == "roc":
                    fpr, tpr, _ = roc_curve(y, s)
                    ax.plot(np.maximum(fpr, 1e-3), tpr, label=f"v{e.ref.version}")
                else:
                    p, r, _ = precision_recall_curve(y, s)
                    ax.plot(r, p, label=f"v{e.ref.version}")
            if kind == "roc":
                ax.set(xscale="log", xlim=(1e-3, 1), ylim=(0, 1.02), xlabel="PFA", ylabel="Pd")
                for pfa in (0.01, 0.05):
                    ax.axvline(pfa, color="grey", ls=":", lw=1)
            else:
                ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
            ax.set_title(cname, fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
        fig.suptitle(f"{'ROC (image level)' if kind == 'roc' else 'precision-recall (image level)'}, {split} split")
        fig.tight_layout()
        p = out / f"{kind}.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
    return paths[0], paths[1]


def _bars(out: Path, evals: list[Evaluation], task: Task) -> Path:
    plt = _plt()
    metric = task.per_class_metric
    classes = evals[0].classes
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(classes) + 2), 3.8))
    w = 0.8 / len(evals)
    missing = set(range(len(classes)))
    for j, e in enumerate(evals):
        vals = np.array([e.per_class.get(c, {}).get(metric, math.nan) for c in classes], np.float64)
        ci = bootstrap.class_intervals(metric, e.sample) if e.sample is not None else None
        err = None
        if ci is not None:
            lo = np.array([i.lo for i in ci])
            hi = np.array([i.hi for i in ci])
            ok = ~(np.isnan(lo) | np.isnan(vals))
            err = np.where(ok, [np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)], 0)
        x = np.arange(len(classes)) + j * w - 0.4 + w / 2
        ax.bar(x, np.nan_to_num(vals), w, yerr=err, capsize=2, label=f"v{e.ref.version}")
        missing &= {i for i, v in enumerate(vals) if math.isnan(v)}
    for i in missing:  # a class the split cannot measure is not a 0
        ax.text(i, 0.02, "no scans", rotation=90, ha="center", va="bottom", fontsize=7, color="grey")
    ax.set_xticks(range(len(classes)), classes, rotation=40, ha="right", fontsize=8)
    ax.set(ylim=(0, 1), ylabel=metric, title=f"per-class {metric} (bars: 95 % bootstrap interval)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = out / "per_class.png"
    fig.savefig(p, dpi=80)
    plt.close(fig)
    return p


def write_html(out: Path, name: str, split: str, evals: list[Evaluation], rows: list[dict], task: Task,
               digest: str, diffs: list[dict] | None = None, notes: list[str] | None = None) -> Path:
    detection = task.detection  # a click model alarms on nothing: no ROC, no PR
    roc, pr = _curves(out, evals, split) if detection else (None, None)
    bars = _bars(out, evals, task)
    keys = key_metrics(task)

    def img(p: Path) -> str:
        return f'<img alt="{p.stem}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
    op = any(r.get("op") for r in rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["version", "aliases", "recipe", "model", "trained on", *keys,
                                                          *(["Pd / PFA at op. point"] if op else []), f"s/{_per(rows)}"])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in
                                    [r["version"], r["aliases"] or "-", r["recipe"], r["model"], r["trained_on"],
                                     *[_cell(r, k) for k in keys], *([r.get("op") or "-"] if op else []),
                                     _f(r["s_per_scan"], 2)]) + "</tr>" for r in rows)
    dt = ""
    if diffs:
        dh = "".join(f"<th>Δ{html.escape(k)}</th>" for k in keys)
        db = "".join("<tr><td>v" + html.escape(d["version"]) + "</td>" + "".join(
            f'<td class="{d[k].verdict.replace(" ", "-") if k in d else ""}">'
            f'{html.escape(d[k].text(3) if k in d else "n/a")}</td>' for k in keys) + "</tr>" for d in diffs)
        dt = (f"<h2>Paired against v{html.escape(diffs[0]['baseline'])}</h2><p>The same scans resampled for both "
              "versions: the interval is that of the difference; <i>within noise</i> when it holds 0.</p>"
              f"<table><tr><th>version</th>{dh}</tr>{db}</table>")
    nt = "".join(f"<li>{html.escape(n)}</li>" for n in (notes or []))
    nt = f"<h2>How far to trust these figures</h2><ul>{nt}</ul>" if nt else ""
    explain = ("Pd at PFA: share of scans holding a class that alarm when at most 1 % / 5 % of the scans without it "
               "do (image level). At op. point: mean Pd and PFA on this split when each class alarms above the "
               "version's own threshold, chosen on val for its false-alarm rate (what prelabel, predict and "
               "manifest-check use)." if detection else "NoC85 / NoC90: clicks of a scripted annotator until the mask "
               "reaches IoU 0.85 / 0.90 (at most 20); mIoU_c1 / mIoU_c3: IoU after one / three clicks.")
    curves = f"<h2>ROC</h2>{img(roc)}<h2>Precision-recall</h2>{img(pr)}" if detection else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(name)}: versions on {split}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td.better{{background:#e3f4e1}}td.worse{{background:#f8e0e0}}th{{background:#f3f3f3}}img{{max-width:100%}}</style>
</head><body><h1>{html.escape(name)}: {len(evals)} versions on the {split} split</h1>
<p>Same frozen split, dataset digest <code>{digest[:12]}</code>. {explain}</p>
<p>Figures with their 95 % bootstrap interval over the scans of the split ({evals[0].scans} scans,
{bootstrap.N_BOOT} resamples).</p>
<table><tr>{head}</tr>{body}</table>
{dt}{nt}
{curves}<h2>Per class</h2>{img(bars)}
<p>Evaluation runs: {", ".join(f"v{r['version']}: <code>{r['eval_run']}</code>" for r in rows)}</p>
</body></html>"""
    return atomic_write(out / "report.html", page)
