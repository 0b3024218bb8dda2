"""Write one MLflow experiment's runs (name, id, parameters, metrics) as a CSV, so the evidence of a
benchmark can sit in docs/ beside the text that quotes it (the stores themselves live with their projects).

Run: .venv/bin/python benchmarks/export_runs.py --project /tmp/xwb-ablation/train --experiment recipe-ablation
     --out docs/runs/recipe-ablation.csv [--append]
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", required=True)
    ap.add_argument("--experiment", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--append", action="store_true", help="add to an existing CSV (same columns)")
    a = ap.parse_args()
    from mlflow import MlflowClient

    from training.versions import tracking

    tracking.quiet_mlflow()
    with tracking.using(tracking.default_uri(Path(a.project))):
        c = MlflowClient()
        exp = c.get_experiment_by_name(a.experiment)
        if exp is None:
            raise SystemExit(f"{a.project}: no experiment {a.experiment!r}")
        runs = [r for r in c.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
                if r.info.status == "FINISHED"]
    rows = [{"project": a.project, "run_name": r.info.run_name, "run_id": r.info.run_id,
             **{f"param.{k}": v for k, v in r.data.params.items()},
             **{k: round(v, 4) for k, v in r.data.metrics.items()}} for r in runs]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    old = []
    if a.append and out.is_file():
        with open(out) as f:
            old = list(csv.DictReader(f))
    keys = list(dict.fromkeys(k for row in old + rows for k in row))
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(old + rows)
    print(f"{len(rows)} runs of {a.experiment} -> {out}")


if __name__ == "__main__":
    main()
