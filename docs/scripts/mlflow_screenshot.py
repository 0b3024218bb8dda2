"""Screenshot of the MLflow UI comparing the demo's segmentation versions (headless Chromium).

    .venv/bin/python docs/scripts/mlflow_screenshot.py [PROJECT] [--page compare|models]
Needs Debian's chromium package. Starts `xwb mlflow-ui` on a free port and stops it afterwards.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> None:
    from mlflow import MlflowClient

    from training.versions.tracking import default_uri, serve_ui, stop_ui

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    page = "models" if "--page=models" in sys.argv or "models" in sys.argv[2:] else "compare"
    proj = Path(args[0]) if args else REPO / "demo" / "baggage"
    name = f"{proj.name}-seg"
    c = MlflowClient(default_uri(proj), default_uri(proj))
    versions = sorted(c.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
    if not versions:
        sys.exit(f"{name}: no versions (run make demo first)")
    runs = [v.run_id for v in versions]
    exp = c.get_run(runs[0]).info.experiment_id
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, address = serve_ui(proj, port=port)
    try:
        if page == "compare":
            q = urllib.parse.urlencode({"runs": json.dumps(runs), "experiments": json.dumps([exp])})
            url = f"{address}/#/compare-runs?{q}"
            out = REPO / "docs" / "mlflow_compare.png"
        else:
            url = f"{address}/#/models/{name}"
            out = REPO / "docs" / "mlflow_models.png"
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--hide-scrollbars", "--window-size=1600,1100",
                        "--virtual-time-budget=20000", f"--screenshot={out}", url],
                       check=True, timeout=120, capture_output=True)
        print(f"saved {out} ({url})")
    finally:
        stop_ui(proc)


if __name__ == "__main__":
    main()
