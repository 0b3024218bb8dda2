"""The project's own click-to-segment model as a backend of the click tool (see workbench/assist/interactive.py).

The version used is the project's ``<project>-click`` model at alias ``champion``, else its latest version;
loading it (torch, MLflow, the signed copy) takes seconds, so the tool starts it in the background when the
tool is chosen.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from workbench.assist.signal import ScanSignal


def find_version(project_folder: Path, name: str) -> str | None:
    """``models:/<name>/<v>`` of the champion, else the latest version; None when none is registered."""
    from mlflow import MlflowClient

    from training.versions import tracking

    tracking.quiet_mlflow()
    with tracking.using(tracking.resolve_uri(None, project_folder)):
        c = MlflowClient()
        try:
            versions = c.search_model_versions(f"name='{name}'")
        except Exception:
            return None
        if not versions:
            return None
        try:
            return f"models:/{name}/{c.get_model_version_by_alias(name, 'champion').version}"
        except Exception:
            return f"models:/{name}/{max(int(v.version) for v in versions)}"


class ModelBackend:
    """A registered click model, loaded once; ``probabilities`` runs it on a window of the scan."""

    def __init__(self, project_folder: Path, project_name: str, device: str = "cpu"):
        from training.inference.predict import load_predictor
        from training.versions import tracking

        name = f"{project_name}-click"
        uri = find_version(project_folder, name)
        if uri is None:
            raise XwbError(f"no click model for this project ({name}): train one with `xwb train "
                           f"configs/click_unet.yaml --project {project_folder}`")
        self.uri = uri
        self.pred = load_predictor(uri, device, tracking.resolve_uri(None, project_folder))
        self.source = "model:" + uri[len("models:/"):]

    def probabilities(self, signal: ScanSignal, box, clicks) -> np.ndarray:
        self.pred.check(*signal.kind(), "this scan")
        x0, y0, x1, y1 = box
        px = np.asarray(signal.pixels[y0:y1, x0:x1])
        i0 = list(signal.i0) if signal.i0_from_file else None
        return self.pred.click_probs(px, clicks, i0, signal.dark if signal.i0_from_file else None)
