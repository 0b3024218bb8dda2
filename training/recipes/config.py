"""Training recipes: YAML validated against a schema before anything runs.

An unknown key or a wrong type is refused with the key path
(``model.arch``), so a typo never silently trains the default. ``--set
key=value`` overrides are parsed as YAML scalars and validated the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from datasets import safeyaml, validation
from datasets.errors import XwbError
from training import tasks
from training.nets import losses
from training.tasks.base import Task

CHANNELS = ("high", "low", "diff", "soft", "peak")  # of detector counts (soft, peak: CT); "rgb": pseudo-colour


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _f(default: Any = ..., doc: str = "", **kw) -> Any:
    """A recipe field with the line of the recipe reference (docs/RECIPES.md, ``xwb recipe``) that says why."""
    if callable(default):  # list, a section class, a lambda: a fresh value for every config
        return Field(default_factory=default, description=doc, **kw)
    return Field(default, description=doc, **kw)


class ModelCfg(_Section):
    arch: str = _f("Unet", "seg: an smp architecture (`xwb models`); cls: `timm` (a timm backbone) or `smp` "
                            "(an smp encoder with a classification head); or your own network, "
                            "path/to/nets.py:Name, built as Name(in_channels=C, classes=K)")
    encoder: str = _f("resnet18", "seg: the smp encoder (`xwb models --encoder`); cls: the timm model or smp "
                                  "encoder (`xwb models --backbone`)")
    encoder_weights: str | None = _f(None, "starting weights: null (random); a local .safetensors/.pth file "
                                              "(encoder weights, or an xwb checkpoint: last.pt, best.safetensors); "
                                              "a registered version models:/NAME/VERSION (fine-tuning); or a hub "
                                              "name (only with XWB_ALLOW_DOWNLOAD=1). A first convolution made "
                                              "for another channel count is adapted")
    classes: list[str] = _f(list, "the classes (seg) or tags (cls) the model learns; empty = every one of the "
                                  "project's taxonomy")
    dropout: float = _f(0.0, "dropout before the classification head (cls)", ge=0, lt=1)
    width: int = _f(0, "cls3d: channels of the first stage of a MONAI ResNet or DenseNet (64 as published; 16-32 "
                       "learn in minutes on a CPU); 0 = the network's own", ge=0, le=256)
    pool: Literal["avg", "max"] = _f("avg", "global pooling of the classifier's feature map (cls): avg (the "
                                            "scan's evidence averaged) or max (the strongest place decides, as in "
                                            "multiple-instance learning: a small threat is not averaged away)")


class DataCfg(_Section):
    channels: Literal["auto"] | list[Literal["auto", "high", "low", "diff", "rgb", "soft", "peak", "materials"]] = _f(
        "auto", "model input: auto (high, low, diff for dual-energy scans; high for grey; rgb for pseudo-colour; "
                "CT volumes: high, soft, peak, plus low and diff for dual-energy CT) or a list of high, low, diff "
                "(log-attenuation of detector counts; of a CT volume its density relative to water), rgb (a "
                "pseudo-colour picture), soft (CT: density up to twice water's, where organics differ) or peak (CT: "
                "density resized by the densest voxel of each block, so thin steel survives the resize) or materials "
                "(CT: eight channels, the share of each block in a density band: foam, leaf, paper, water, dense "
                "organic, mineral, glass, metal)")
    tile: int = _f(256, "side of the square training crops, px (seg)", ge=32, le=4096)
    image_size: int = _f(256, "the whole scan is resized so its long side is this many px (cls)", ge=32, le=4096)
    volume_size: int = _f(48, "cls3d: each volume is resized by one factor so its longest side is this many "
                              "voxels, and padded with air to a cube", ge=16, le=512)
    batch_size: int = _f(8, "crops (seg) or scans (cls) per step and rank", ge=1)
    crops_per_epoch: int = _f(256, "training crops per epoch, all ranks together (seg)", ge=1)
    sampling: Literal["positive", "balanced", "uniform"] = _f(
        "balanced", "where crops are centred: balanced picks a class first, then one of its regions (rare classes "
                    "as often as common ones); positive picks any region; uniform ignores labels")
    positive_fraction: float = _f(0.7, "share of crops centred on a labelled region (the rest uniform)", ge=0, le=1)
    workers: int = _f(0, "DataLoader worker processes; 0 = load in the training process", ge=0)
    val_max_images: int = _f(0, "validate on at most this many val scans per epoch; 0 = the whole val split", ge=0)


class AugmentCfg(_Section):
    hflip: float = _f(0.5, "probability of a horizontal flip", ge=0, le=1)
    vflip: float = _f(0.5, "probability of a vertical flip", ge=0, le=1)
    rot90: float = _f(0.0, "probability of a 90-degree turn", ge=0, le=1)
    scale: float = _f(0.0, "probability of a 0.8-1.25 rescale (the border filled with open beam)", ge=0, le=1)
    noise: float = _f(0.2, "probability of added quantum-like noise (sigma ~ sqrt(counts))", ge=0, le=1)
    gain: float = _f(0.3, "probability of a detector gain change, all channels alike", ge=0, le=1)
    gain_limit: float = _f(0.15, "largest relative gain change", ge=0, le=0.9)
    channel_gain: float = _f(0.0, "probability of a gain change per channel (changes material colour: off by "
                                  "default)", ge=0, le=1)
    tip: float = _f(0.0, "probability of projecting a training threat into the crop (threat image projection; "
                         "set to 0 on pseudo-colour scans)", ge=0, le=1)


class LossCfg(_Section):
    name: str = _f("dice_ce", "; ".join(f"{t}: {losses.either(losses.names(t))}" for t in tasks.names())
                   + "; or your own, path/to/losses.py:fn, called as fn(logits, target) -> scalar")
    dice_weight: float = _f(1.0, "weight of the Dice term in dice_ce / dice_focal", ge=0)


class OptimCfg(_Section):
    epochs: int = _f(10, "epochs to train (a resumed run may be given more)", ge=1)
    lr: float = _f(1e-3, "peak learning rate (AdamW)", gt=0)
    weight_decay: float = _f(1e-4, "AdamW weight decay", ge=0)
    scheduler: Literal["cosine", "onecycle", "step", "none"] = _f("cosine", "learning-rate schedule after warm-up")
    warmup_epochs: int = _f(0, "epochs of linear warm-up", ge=0)
    clip_grad: float = _f(1.0, "gradient norm clipping; 0 = no clipping", ge=0)
    patience: int = _f(5, "stop after this many epochs without a better monitored metric; 0 = never early", ge=0)
    monitor: str | None = _f(None, "the validation metric that picks the best checkpoint (higher is better); "
                                      "null = val_mIoU (seg) or val_mAP (cls)")


class RuntimeCfg(_Section):
    seed: int = _f(0, "seed of every random choice (crops, augmentation, weights)")
    device: Literal["auto", "cpu", "cuda"] = _f("auto", "where to train; auto = CUDA when there is one")
    amp: bool = _f(True, "mixed precision (CUDA only)")
    channels_last: bool = _f(True, "channels-last memory format (CUDA only)")
    threads: int = _f(0, "torch CPU threads; 0 = leave as torch chooses", ge=0)
    cpu_bf16: bool = _f(False, "train in bfloat16 mixed precision on a CPU with native bf16 (AMX / AVX512-BF16; "
                               "elsewhere ignored), channels-last; weights and the loss stay float32. "
                               "benchmarks/bench_cpu_amp.py measures what it buys")


class EvalCfg(_Section):
    tile: int = _f(1024, "largest inference tile, px; tiles shrink to spread evenly over the scan", ge=64, le=8192)
    threshold: float = _f(0.5, "score above which a class counts as detected, for classes without an operating "
                               "point", gt=0, lt=1)
    operating_pfa: float | None = _f(0.01, "per-class operating points: each class's threshold is chosen on the "
                                              "val split so that at most this share of scans without the class "
                                              "alarm; stored with the version and used by prelabel, predict, "
                                              "manifest-check and the workbench (null: `threshold` for every class)",
                                        gt=0, lt=1)
    overlap: int = _f(64, "px shared by neighbouring tiles, blended smoothly", ge=0, le=1024)
    overlays: int = _f(4, "prediction overlays logged with the final evaluation", ge=0)
    pfa: list[float] = _f(lambda: [0.01, 0.05], "false-alarm rates at which the detection rate (Pd) is reported")
    val_every: int = _f(1, "validate every N epochs (and always after the last one); early stopping's patience "
                           "counts validations. Each epoch logs where its time went: epoch_train_s, epoch_val_s, "
                           "epoch_save_s", ge=1)
    val_clicks: int = _f(20, "click-to-segment: most clicks per object while validating each epoch (NoC beyond "
                             "counts as this; `xwb evaluate` and the final evaluation allow 20)", ge=3, le=20)


class MlflowCfg(_Section):
    experiment: str | None = _f(None, "MLflow experiment; null = \"<project>/<task>\"")
    registered_model: str | None = _f(None, "registered model name; null = \"<project>-seg\" / \"-cls\" / "
                                               "\"-click\" by task")
    register_model: bool = _f(True, "register the best checkpoint as a new model version")
    run_name: str | None = _f(None, "MLflow run name; null = \"<recipe>-<date>\"")
    keep_checkpoints: bool = _f(True, "false: delete last.pt/best.safetensors once the run finished and logged")


class TrainConfig(_Section):
    task: str = _f("seg", "; ".join(f"{t}: {tasks.get(t).help}" for t in tasks.names())
                   + " (registered in training/tasks/)")
    name: str = _f("recipe", "the recipe's name, recorded with every run (tag xwb.recipe)")
    model: ModelCfg = _f(ModelCfg, "the network")
    data: DataCfg = _f(DataCfg, "what the network sees")
    augment: AugmentCfg = _f(AugmentCfg, "random changes to training crops (on detector counts)")
    loss: LossCfg = _f(LossCfg, "what training minimises")
    optim: OptimCfg = _f(OptimCfg, "how long and how fast")
    runtime: RuntimeCfg = _f(RuntimeCfg, "where and how it runs")
    eval: EvalCfg = _f(EvalCfg, "validation, evaluation and inference")
    mlflow: MlflowCfg = _f(MlflowCfg, "tracking and registration")
    _task: Task | None = PrivateAttr(default=None)

    @property
    def task_type(self) -> Task:
        """The recipe's task, resolved once when the recipe is read (``parse_config``) and handed on from
        there: the loop, the data, the losses and the registry ask this object, never the registry again."""
        if self._task is None or self._task.name != self.task:  # (a test may assign another task)
            self._task = tasks.get(self.task, "task")
        return self._task

    @property
    def monitor(self) -> str:
        return self.optim.monitor or f"val_{self.task_type.monitor}"

    def flat(self) -> dict[str, Any]:
        """Dotted keys to values (MLflow params)."""
        out: dict[str, Any] = {}

        def walk(prefix: str, d: dict) -> None:
            for k, v in d.items():
                if isinstance(v, dict):
                    walk(f"{prefix}{k}.", v)
                else:
                    out[f"{prefix}{k}"] = v
        walk("", self.model_dump())
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(), sort_keys=False)

    def sha(self) -> str:
        """Short hash of the resolved config: the demo reuses a version trained with the same one."""
        import hashlib

        return hashlib.sha256(self.to_yaml().encode()).hexdigest()[:12]


def apply_overrides(data: dict, overrides: list[str], source: str) -> dict:
    for ov in overrides or []:
        if "=" not in ov:
            raise XwbError(f"--set {ov!r}: expected key=value")
        key, raw = ov.split("=", 1)
        try:
            value = safeyaml.load(raw, f"--set {key.strip()}") if raw.strip() else ""
        except XwbError:
            value = raw
        node = data
        parts = key.strip().split(".")
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise XwbError(f"--set {key}: {p} is not a section")
            node = nxt
        node[parts[-1]] = value
    return data


def _validate(data: dict, source: str, overrides: list[str] | None = None) -> TrainConfig:
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as e:
        loc = ".".join(str(p) for p in e.errors()[0]["loc"])
        for ov in reversed(overrides or []):
            key = ov.split("=", 1)[0].strip()
            if loc == key or loc.startswith(key + ".") or key.startswith(loc + "."):
                source = f"--set {ov}"
                break
        raise XwbError(validation.message(source, e, TrainConfig)) from None


def parse_config(data: Any, source: str, overrides: list[str] | None = None) -> TrainConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise XwbError(f"{source}: a training config is a mapping of sections (task, model, data, ...)")
    if overrides:  # the file's own mistakes are the file's; what --set broke is said to be --set's
        import copy

        _validate(copy.deepcopy(data), source)
    data = apply_overrides(data, overrides or [], source)
    cfg = _validate(data, source, overrides)
    try:
        _check(cfg)
    except _KeyError as e:  # said to be the --set's when a --set gave the key
        src = next((f"--set {ov}" for ov in reversed(overrides or []) if ov.split("=", 1)[0].strip() in e.keys),
                   source)
        raise XwbError(f"{src}: {e.text}") from None
    return cfg


class _KeyError(Exception):
    def __init__(self, keys: tuple[str, ...], text: str):
        super().__init__(text)
        self.keys, self.text = keys, text


def _check(cfg: TrainConfig) -> None:
    """What the schema cannot say alone: registered names, and values that must agree with each other."""
    try:
        cfg.task_type  # noqa: B018 (resolved here, once)
    except XwbError as e:
        raise _KeyError(("task",), str(e)) from None
    ch = cfg.data.channels
    if ch != "auto" and (not ch or len(set(ch)) != len(ch) or ("auto" in ch and len(ch) > 1)
                         or ("rgb" in ch and len(ch) > 1)):
        raise _KeyError(("data.channels",), f"data.channels: auto, rgb, or distinct items of {', '.join(CHANNELS)}, "
                                            "materials")
    if ":" not in cfg.loss.name:  # a file of the user's own is resolved when training starts
        bad = losses.check(cfg.loss.name, cfg.task)
        if bad:
            raise _KeyError(bad[1], bad[0])
    if any(not 0 < p < 1 for p in cfg.eval.pfa):
        raise _KeyError(("eval.pfa",), "eval.pfa: false-alarm rates must lie between 0 and 1")


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        import configs

        shipped = configs.recipe(str(path))
        if shipped is None:
            names = ", ".join(p.stem for p in configs.recipes())
            raise XwbError(f"{path}: config not found (a file, or a shipped recipe: {names})")
        path = shipped
    data = safeyaml.load_file(path)
    return parse_config(data, str(path), overrides)
