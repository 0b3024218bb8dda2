"""What a task type is: every place training, evaluation and inference differ by task, as one class.

A task says what it learns from the store (classes drawn as regions, or image tags), how its network is
checked and fed, how it is measured and what its output becomes (files, proposals, manifest flags).
``training/`` asks the task and never tests its name, so a new kind of model (click-to-segment, CT
volumes) is one new module under ``training/tasks/`` that subclasses ``Task`` and is listed in
``training/tasks/__init__.py``; its network builder and inference live in ``model_code`` (the code a
logged model carries, which must not import xwb) and its training dataset beside the others in
``training/loop/data.py`` (which imports this registry: a task module imports it when training starts).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from torch.utils.data import Dataset

    from datasets.project import Project
    from datasets.stores import ImageRecord
    from datasets.taxonomy import Taxonomy
    from training.inference.predict import Prediction, Predictor
    from training.loop.data import ScanItem
    from training.nets.inputs import InputKind
    from training.recipes.config import TrainConfig


def cut(threshold: float | dict[str, float], name: str) -> float:
    """The threshold of class ``name``: one for all, or the version's per-class operating points."""
    return float(threshold.get(name, 0.5)) if isinstance(threshold, dict) else float(threshold)


class Task:
    name: str = ""
    help: str = ""                       # one line for the recipe reference
    labels: str = "classes"              # what of the taxonomy the model predicts: "classes" or "tags"
    monitor: str = ""                    # the validation metric early stopping and "best" follow
    val_metrics: tuple[str, ...] = ()    # headline metrics logged each epoch (val_ prefix) besides mPd_pfa*
    key_metrics: tuple[str, ...] = ()    # the figures evaluate/compare/promote show first
    per_class_metric: str = ""           # the per-class bar of `xwb compare`
    shuffle: bool = True                 # whether the DataLoader shuffles (seg crops are random already)
    detection: bool = True               # reports Pd at the recipe's false-alarm rates (eval.pfa)
    seconds_per: str = "scan"            # what evaluation's seconds_per_scan times (one scan, or one click)
    answers_clicks: bool = False         # a click-to-segment model: Predictor.click_probs, not predict_*
    volumes: bool = False                # trains on CT volumes (z, y, x), not 2-D scans

    @property
    def model_suffix(self) -> str:
        """Registered as ``<project>-<suffix>`` unless the recipe names the model."""
        return self.name

    # ------------------------------------------------------------ labels
    def pool(self, tax: Taxonomy) -> list[str]:
        """The names a model of this task may predict, in taxonomy order."""
        raise NotImplementedError

    def load_labels(self, project: Project, rec: ImageRecord, names: list[str]) -> tuple[list, Any] | None:
        """(regions as (model index, Region), tag vector or None) of one scan; None: not labelled yet."""
        raise NotImplementedError

    def nothing_to_learn(self, items: list[ScanItem]) -> str | None:
        """Why the train split teaches this task nothing, or None."""
        raise NotImplementedError

    def spec_labels(self, tax: Taxonomy, names: list[str]) -> dict:
        """What a logged model records of its labels besides their names (taxonomy ids, colours)."""
        return {"class_ids": [], "colors": []}

    def check_taxonomy(self, spec: dict, tax: Taxonomy, uri: str) -> None:
        """Refuse a project whose taxonomy means something else by the model's labels."""
        raise NotImplementedError

    # ------------------------------------------------------------ network
    def check_model(self, arch: str, encoder: str) -> None:
        """XwbError naming the key for an architecture/encoder this task cannot use."""
        raise NotImplementedError

    def spec_arch(self, arch: str) -> str:
        """The architecture name as recorded in a logged model."""
        return arch

    def build_hint(self, arch: str) -> str:
        """What to try when an architecture/encoder pair cannot be built ('; ...'), or ''."""
        return ""

    def input_size(self, cfg: TrainConfig) -> int:
        """The side of the training inputs (crop or letterbox size)."""
        raise NotImplementedError

    def input_channels(self, n: int) -> int:
        """The network's input channels for ``n`` scan channels (a click model adds its click maps)."""
        return n

    def least_input(self, arch: str) -> int:
        """The smallest input side the architecture takes."""
        return 32

    def probe_sizes(self, size: int) -> list[tuple[int, ...]]:
        """Input sizes (spatial dims) a new network must take before training starts (inference sizes vary
        for tiles)."""
        return [(size, size)]

    def outputs(self, k: int) -> tuple[int, ...]:
        """The shape of the model's output for K labels (MLflow signature), -1 for any size."""
        raise NotImplementedError

    def hub_net(self, spec: dict, weights: str):
        """The network with a library's named pretrained weights (downloads allowed)."""
        raise NotImplementedError

    # ------------------------------------------------------------ training
    def fit_to_scans(self, cfg: TrainConfig, kind: InputKind) -> str:
        """Switch off what the recipe cannot do on scans of ``kind``; returns the note to show, or ''."""
        return ""

    def dataset(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int, world: int) -> Dataset:
        """The training set of this rank: (input tensor, target tensor) pairs."""
        raise NotImplementedError

    def make_loss(self, name: str, cfg: TrainConfig):
        """The loss named ``name`` (see ``training.nets.losses``), built for this task."""
        from training.nets import losses

        return losses.make(name, self.name, cfg)

    # ------------------------------------------------------------ measuring
    def accumulator(self, classes: list[str], max_clicks: int | None = None):
        """An object with ``add(probs, truth)``, ``scores``, ``present`` and ``result(pfas, threshold)``;
        ``max_clicks`` caps a click protocol (validation while training), for tasks that click."""
        raise NotImplementedError

    def truth(self, item: ScanItem):
        """What ``accumulator().add`` compares a prediction with, for one scan."""
        raise NotImplementedError

    def measure(self, pred: Predictor, item: ScanItem, counts: np.ndarray, acc) -> tuple[float, Any, Any]:
        """Predict one scan and add it to ``acc``: (seconds per prediction, truth and predicted labels for an
        overlay or None)."""
        p = pred.predict_counts(counts, item.i0, item.dark, rescale=item.rescale)
        truth = self.truth(item)
        acc.add(p.probs, truth)
        return p.seconds, (truth if p.probs.ndim == 3 else None), (p.labels() if p.probs.ndim == 3 else None)

    def report(self, res: dict, pred: Predictor, out: Path, colors: list, regime: str) -> list[Path]:
        """Task-specific figures of an evaluation report (confusion, overlays) under ``out``."""
        return []

    # ------------------------------------------------------------ outputs
    def check_batch_use(self) -> None:
        """XwbError when the model cannot run without a person (predict, prelabel, manifest-check)."""

    def scores(self, probs: np.ndarray, classes: list[str]) -> dict[str, float]:
        """Image-level score per label from the model's probabilities."""
        raise NotImplementedError

    def uncertainty(self, probs: np.ndarray) -> float:
        """How unsure the model is about a scan, 0 (sure) .. 1 (no idea): what to label next."""
        raise NotImplementedError

    def found(self, pred: Prediction, spec: dict, threshold: float, min_area: int) -> list[str]:
        """Labels the prediction reports in this scan (manifest check)."""
        raise NotImplementedError

    def propose(self, project: Project, rec: ImageRecord, pred: Prediction, spec: dict, source: str,
                threshold: float, min_area: int) -> tuple[str, int]:
        """Write the prediction into the store as proposals of ``source``; (summary line, count)."""
        raise NotImplementedError

    def write_prediction(self, pred: Predictor, p: Prediction, rgb: np.ndarray, stem: Path, doc: dict,
                         threshold: float, probs: bool, min_area: int) -> tuple[list[Path], np.ndarray]:
        """Task files of ``xwb predict`` for one scan and the overlay picture to save; fills ``doc``."""
        raise NotImplementedError
