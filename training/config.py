"""Training recipes: YAML validated against a schema before anything runs.

An unknown key or a wrong type is refused with the key path
(``model.arch``), so a typo never silently trains the default. ``--set
key=value`` overrides are parsed as YAML scalars and validated the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datasets import safeyaml, validation
from datasets.errors import XwbError

CHANNELS = ("high", "low", "diff")  # of detector counts; "rgb" is for pseudo-colour scans


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelCfg(_Section):
    arch: str = "Unet"                      # smp architecture (seg) or "timm" / "smp" head (cls)
    encoder: str = "resnet18"               # smp encoder (seg) or timm model name (cls)
    encoder_weights: Optional[str] = None   # None, a local .safetensors/.pth file, or a hub name (needs XWB_ALLOW_DOWNLOAD=1)
    classes: list[str] = Field(default_factory=list)  # subset of taxonomy classes (seg) or tags (cls); empty = all
    dropout: float = Field(0.0, ge=0, lt=1)


class DataCfg(_Section):
    # model input: auto (what fits the project's scans: high, low, diff for dual energy; high for grey; rgb for
    # pseudo-colour) or a list of high, low, diff (detector counts) or rgb (pseudo-colour pictures)
    channels: Union[Literal["auto"], list[Literal["auto", "high", "low", "diff", "rgb"]]] = "auto"
    tile: int = Field(256, ge=32, le=4096)          # training crop side (seg)
    image_size: int = Field(256, ge=32, le=4096)    # long side the whole scan is resized to (cls)
    batch_size: int = Field(8, ge=1)
    crops_per_epoch: int = Field(256, ge=1)         # training samples per epoch (all ranks together)
    sampling: Literal["positive", "balanced", "uniform"] = "balanced"
    positive_fraction: float = Field(0.7, ge=0, le=1)
    workers: int = Field(0, ge=0)
    val_max_images: int = Field(0, ge=0)            # 0 = the whole val split


class AugmentCfg(_Section):
    hflip: float = Field(0.5, ge=0, le=1)
    vflip: float = Field(0.5, ge=0, le=1)
    rot90: float = Field(0.0, ge=0, le=1)
    scale: float = Field(0.0, ge=0, le=1)           # probability of a 0.8-1.25 rescale
    noise: float = Field(0.2, ge=0, le=1)           # probability of added quantum-like noise
    gain: float = Field(0.3, ge=0, le=1)            # probability of a detector gain change (all channels alike)
    gain_limit: float = Field(0.15, ge=0, le=0.9)
    channel_gain: float = Field(0.0, ge=0, le=1)    # per-channel gain: changes material colour, so off by default
    tip: float = Field(0.0, ge=0, le=1)             # probability of projecting a training threat into the crop


class LossCfg(_Section):
    name: Literal["dice_ce", "dice_focal", "ce", "focal", "dice", "bce"] = "dice_ce"
    dice_weight: float = Field(1.0, ge=0)


class OptimCfg(_Section):
    epochs: int = Field(10, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    scheduler: Literal["cosine", "onecycle", "step", "none"] = "cosine"
    warmup_epochs: int = Field(0, ge=0)
    clip_grad: float = Field(1.0, ge=0)             # 0 = no clipping
    patience: int = Field(5, ge=0)                  # early stopping; 0 = never stop early
    monitor: Optional[str] = None                   # default: val_mIoU (seg) or val_mAP (cls), higher is better


class RuntimeCfg(_Section):
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    amp: bool = True              # mixed precision (CUDA only)
    channels_last: bool = True    # memory format (CUDA only)
    threads: int = Field(0, ge=0)  # torch CPU threads; 0 = leave as is


class EvalCfg(_Section):
    tile: int = Field(1024, ge=64, le=8192)         # largest inference tile (px); tiles shrink to spread evenly
    threshold: float = Field(0.5, gt=0, lt=1)
    overlap: int = Field(64, ge=0, le=1024)         # px shared by neighbouring tiles, blended smoothly
    overlays: int = Field(4, ge=0)
    pfa: list[float] = Field(default_factory=lambda: [0.01, 0.05])


class MlflowCfg(_Section):
    experiment: Optional[str] = None        # default "<project>/<task>"
    registered_model: Optional[str] = None  # default "<project>-seg" / "<project>-cls"
    register_model: bool = True
    run_name: Optional[str] = None
    keep_checkpoints: bool = True           # false: delete last.pt/best.safetensors once the run finished and logged


class TrainConfig(_Section):
    task: Literal["seg", "cls"] = "seg"
    name: str = "recipe"
    model: ModelCfg = Field(default_factory=ModelCfg)
    data: DataCfg = Field(default_factory=DataCfg)
    augment: AugmentCfg = Field(default_factory=AugmentCfg)
    loss: LossCfg = Field(default_factory=LossCfg)
    optim: OptimCfg = Field(default_factory=OptimCfg)
    runtime: RuntimeCfg = Field(default_factory=RuntimeCfg)
    eval: EvalCfg = Field(default_factory=EvalCfg)
    mlflow: MlflowCfg = Field(default_factory=MlflowCfg)

    @property
    def monitor(self) -> str:
        return self.optim.monitor or ("val_mIoU" if self.task == "seg" else "val_mAP")

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


def parse_config(data: Any, source: str, overrides: list[str] | None = None) -> TrainConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise XwbError(f"{source}: a training config is a mapping of sections (task, model, data, ...)")
    data = apply_overrides(data, overrides or [], source)
    try:
        cfg = TrainConfig.model_validate(data)
    except ValidationError as e:
        raise XwbError(validation.message(source, e)) from None
    ch = cfg.data.channels
    if ch != "auto":
        if not ch or len(set(ch)) != len(ch) or ("auto" in ch and len(ch) > 1) or \
                ("rgb" in ch and len(ch) > 1):
            raise XwbError(f"{source}: data.channels: auto, rgb, or distinct items of {', '.join(CHANNELS)}")
    if cfg.task == "seg" and cfg.loss.name == "bce":
        raise XwbError(f"{source}: loss.name: bce is for task cls; use dice_ce, dice_focal, ce, focal or dice")
    if cfg.task == "cls" and cfg.loss.name not in ("bce", "focal"):
        raise XwbError(f"{source}: loss.name: task cls uses bce or focal, got {cfg.loss.name}")
    if any(not 0 < p < 1 for p in cfg.eval.pfa):
        raise XwbError(f"{source}: eval.pfa: false-alarm rates must lie between 0 and 1")
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise XwbError(f"{path}: config not found")
    data = safeyaml.load_file(path)
    return parse_config(data, str(path), overrides)
