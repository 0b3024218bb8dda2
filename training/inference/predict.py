"""The predictor: one object that turns scans into class probabilities, the API above training.

``load_predictor("models:/NAME@champion")`` gives the same object that
training's validation uses, so the workbench, ``xwb predict``, evaluation
and the training loop share one inference path (model_code.segment/classify).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from datasets.calibration import rescale_of, scanner_facts
from datasets.errors import XwbError
from datasets.scanio import Scan
from training import tasks
from training.nets import inputs, model_code
from training.nets.inputs import InputKind


@dataclass
class Prediction:
    """What a model says about one scan.

    probs: segmentation: (K+1, H, W) softmax probabilities at the scan's own size, channel 0 = background,
        channel k = ``classes[k - 1]``; classification: (K,) independent (sigmoid) probabilities.
    scores: per class, the image-level score (seg: the highest pixel probability of the class).
    ``labels()`` is the per-pixel argmax (0 = background); ``detected(t)`` the classes scoring above ``t``,
    where xwb's commands use the model's own threshold (``Predictor.threshold``, 0.5 unless the recipe says).
    """

    task: str
    classes: list[str]
    probs: np.ndarray                       # seg: (K+1, H, W); cls: (K,)
    scores: dict[str, float] = field(default_factory=dict)  # per class: image-level score
    seconds: float = 0.0

    def labels(self) -> np.ndarray:
        """Seg: (H, W) uint8 model class index (0 = background)."""
        return self.probs.argmax(0).astype(np.uint8)

    def detected(self, threshold: float | dict[str, float]) -> list[str]:
        from training.tasks.base import cut

        return [c for c, s in self.scores.items() if s > cut(threshold, c)]


class Predictor:
    """A network plus the spec that says how to feed it (classes, preprocessing, tile)."""

    def __init__(self, net: torch.nn.Module, spec: dict, device: str = "cpu", uri: str | None = None,
                 channels_last: bool = False):
        self.net, self.spec, self.device, self.uri = net, spec, device, uri
        self.channels_last = channels_last
        self.task = spec["task"]
        self.task_type = tasks.get(self.task, f"model {uri}: task" if uri else "model: task")  # once, handed on
        self.classes = list(spec["classes"])

    @property
    def raw_channels(self) -> int:
        return int(self.spec["preprocess"]["raw_channels"])

    def _counts_chw(self, counts: np.ndarray) -> np.ndarray:
        spatial = 3 if self.task_type.volumes else 2
        c = counts[..., None] if counts.ndim == spatial else counts
        if c.ndim != spatial + 1:
            raise XwbError(f"the model reads {'volumes (Z, Y, X[, C])' if spatial == 3 else '2-D scans (H, W[, C])'}, "
                           f"got an array of shape {counts.shape}")
        if c.shape[-1] < self.raw_channels:
            raise XwbError(f"the model needs {self.raw_channels} energy channels, the scan has {c.shape[-1]}")
        return np.moveaxis(c[..., : self.raw_channels], -1, 0)

    def predict_counts(self, counts: np.ndarray, i0=None, dark=None, overlap: float | None = None,
                       batch: int = 4, rescale=None) -> Prediction:
        """counts: (H, W) or (H, W, C) at native depth; a volume model: (Z, Y, X[, C]) stored CT values and
        their ``rescale`` (slope, intercept), else the training scans'."""
        self.task_type.check_batch_use()  # a click model answers clicks: click_probs
        t = time.perf_counter()
        f = model_code.features(self._counts_chw(counts), self.spec["preprocess"], i0, dark, rescale)
        p = model_code.run(self.net, f, self.spec, self.device, batch=batch, overlap=overlap,
                           channels_last=self.channels_last)
        scores = self.task_type.scores(p, self.classes)
        return Prediction(self.task, self.classes, p, scores, time.perf_counter() - t)

    def click_probs(self, counts: np.ndarray, clicks, i0=None, dark=None) -> np.ndarray:
        """Click-to-segment: the object probability (H, W) over a window of counts (H, W[, C]) at native
        depth, given clicks (x, y, positive) in window pixels. The caller chooses the window (the workbench:
        around the clicks); any size works, padded to a multiple of 32."""
        if not self.task_type.answers_clicks:
            raise XwbError(f"model {self.uri or ''} is a {self.task} model, not a click-to-segment one".replace("  ", " "))
        f = model_code.features(self._counts_chw(counts), self.spec["preprocess"], i0, dark)
        return model_code.click_segment(self.net, f, self.spec, self.device, clicks=clicks)

    def check(self, layout: str, bit_depth: int, where: str, volume: bool = False) -> str:
        """'' if scans of this layout and depth (2-D, or CT volumes) are what the model was trained on, a note
        if they are converted; XwbError naming ``where``, the model and both kinds otherwise."""
        try:
            return inputs.check(self.spec, InputKind(layout, bit_depth, volume), f"model {self.uri or ''}".strip())
        except XwbError as e:
            raise XwbError(f"{where}: {e}") from None

    @property
    def threshold(self) -> float:
        """The flat threshold of the recipe (classes without an operating point)."""
        return float(self.spec.get("threshold", 0.5))

    @property
    def thresholds(self) -> dict[str, float]:
        """Per class: the operating point chosen on the val split for the recipe's false-alarm rate, else the
        flat threshold. What prelabel, predict, manifest-check and the workbench alarm above."""
        per = (self.spec.get("operating_point") or {}).get("thresholds", {})
        return {c: float(per.get(c, self.threshold)) for c in self.classes}

    def operating_note(self) -> str:
        op = self.spec.get("operating_point")
        if not op:
            return f"a flat threshold {self.threshold:g}"
        return f"operating points for PFA {op['pfa'] * 100:g} % on {op['split']} ({len(op['placed'])} classes placed)"

    def predict_scan(self, scan: Scan | np.ndarray | str | Path, **kw) -> Prediction:
        """Predict one scan after checking it is like the training scans.

        ``scan``: a ``datasets.scanio.Scan`` (``read_scan(path)``), a path, or a bare array at native depth
        ((H, W) grey, (H, W, 2) dual energy high/low, (H, W, 3) RGB; its bit depth is its dtype's). I0 and
        dark come from the file when it carries them, else from the model (what its training scans had).
        A scan unlike the training scans raises XwbError naming both."""
        if isinstance(scan, (str, Path)):
            from datasets.scanio import read_scan

            scan = read_scan(scan)
        elif isinstance(scan, np.ndarray):
            scan = _array_scan(scan)
        elif not isinstance(scan, Scan):
            raise XwbError(f"predict_scan takes a Scan, a path or a numpy array, not {type(scan).__name__}")
        self.check(scan.info.layout, scan.info.bit_depth, str(scan.path or "scan"), scan.info.is_volume)
        if self.task_type.volumes:
            return self.predict_counts(scan.voxels(), rescale=rescale_of(scan.meta), **kw)
        pixels = scan.plane()  # a volume is refused by name: these networks were trained on 2-D scans
        if scan.meta and "i0" in scan.meta:
            i0, dark = scanner_facts(scan.meta, self.raw_channels, scan.info.bit_depth)
        else:
            i0, dark = None, None  # the model's default_i0 / default_dark
        return self.predict_counts(pixels, i0, dark, **kw)


def _array_scan(a: np.ndarray) -> Scan:
    from datasets.scanio import ScanInfo

    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 2, 3)):
        raise XwbError(f"a scan array is (H, W), (H, W, 2) or (H, W, 3); got shape {a.shape}")
    if a.dtype.kind not in "ui":
        raise XwbError(f"a scan array holds unsigned counts (uint8 or uint16); got {a.dtype}")
    c = 1 if a.ndim == 2 else a.shape[2]
    layout = {1: "gray", 2: "dual", 3: "rgb"}[c]
    return Scan(a if c > 1 or a.ndim == 2 else a[..., 0],
                ScanInfo(a.shape[1], a.shape[0], c, a.dtype.itemsize * 8, layout, "array", "yxc" if c > 1 else "yx"),
                None, {})


def _device(device: str | None) -> str:
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise XwbError("--device cuda: no CUDA device is available")
    return device


def load_predictor(uri: str, device: str | None = None, tracking_uri: str | None = None) -> Predictor:
    """Load a logged xwb model (``models:/NAME/VERSION``, ``models:/NAME@alias``, ``runs:/...``).

    ``tracking_uri``: the MLflow store to resolve ``models:/`` in (default: MLflow's current one).
    """
    import mlflow

    from training.versions.tracking import using

    with using(tracking_uri), tempfile.TemporaryDirectory(prefix="xwb-model-") as tmp:
        source = uri
        if uri.startswith("models:/"):  # a registered version: load a private copy whose digests match
            from mlflow import MlflowClient

            from training.versions import registry, signing

            ref = registry.resolve(uri)
            source = str(signing.verified_copy(MlflowClient(), ref.name, ref.version, Path(tmp)))
        try:
            model = mlflow.pyfunc.load_model(source)
        except Exception as e:  # MlflowException, OSError, ...: say what was asked for and what exists
            raise XwbError(f"{uri}: cannot load the model ({_first_line(e)}){_known_versions(uri)}") from None
    inner = model.unwrap_python_model()
    if not isinstance(getattr(inner, "spec", None), dict):
        raise XwbError(f"{uri}: not an xwb model (no spec)")
    dev = _device(device)
    inner.net.to(dev)
    return Predictor(inner.net, inner.spec, dev, uri)


def _first_line(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return s[0][:200] if s else type(e).__name__


def _known_versions(uri: str) -> str:
    if not uri.startswith("models:/"):
        return ""
    name = uri[len("models:/"):].split("/")[0].split("@")[0]
    try:
        from mlflow import MlflowClient

        vs = MlflowClient().search_model_versions(f"name='{name}'")
    except Exception:
        return ""
    if not vs:
        return f"; no registered model named {name!r}"
    listed = ", ".join(sorted((str(v.version) for v in vs), key=int))
    return f"; registered versions of {name}: {listed}"

