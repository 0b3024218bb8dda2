"""The training loop: one process or one DDP rank, resumable, stopping early, failing loudly.

MLflow bookkeeping lives in training/loop/run.py; this module only moves tensors.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from datasets.errors import XwbError
from datasets.safefs import atomic_write
from training.recipes.config import TrainConfig


class Diverged(XwbError):
    """The loss became NaN or infinite."""


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def on(self) -> bool:
        return self.world > 1


def init_distributed(device: str) -> Dist:
    """torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; NCCL on GPUs, gloo on the CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def pick_device(cfg: TrainConfig, override: str | None, d: Dist | None = None) -> str:
    want = override or cfg.runtime.device
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want == "cuda":
        if not torch.cuda.is_available():
            raise XwbError("runtime.device: cuda asked for but no CUDA device is available")
        return f"cuda:{d.local_rank if d else 0}"
    return "cpu"


def make_loss(cfg: TrainConfig):
    """The recipe's loss: a registered one built for the task (``training.nets.losses``), or the user's own."""
    name = cfg.loss.name
    if ":" in name:  # the user's own
        from training.recipes import custom

        ref = custom.resolve(name, "loss.name")
        return custom.load(ref.source, ref.attr, "loss.name")
    return cfg.task_type.make_loss(name, cfg)


def make_scheduler(cfg: TrainConfig, opt, steps_per_epoch: int):
    o = cfg.optim
    total = max(1, o.epochs * steps_per_epoch)
    warm = o.warmup_epochs * steps_per_epoch
    if o.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=o.lr, total_steps=total)
    if o.scheduler == "step":
        every = max(1, total // 3)
        return torch.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=0.1)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if o.scheduler == "none":
            return 1.0
        t = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


@dataclass
class State:
    epoch: int = 0               # next epoch to run
    global_step: int = 0
    best: float = -math.inf
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)


def save_checkpoint(path: Path, model, opt, sched, scaler, state: State, config_yaml: str, spec: dict,
                    pending: dict | None = None) -> None:
    """Atomic: a kill during the save leaves the previous checkpoint intact.

    ``pending``: the epoch's metrics, logged to MLflow right after the save; a
    resumed run logs them if the kill came in between (each epoch once).
    """
    import json

    ck = {"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(),
          "scaler": scaler.state_dict() if scaler is not None else {},
          "state": {"epoch": state.epoch, "global_step": state.global_step, "best": state.best,
                    "best_epoch": state.best_epoch, "bad_epochs": state.bad_epochs},
          "config": config_yaml, "spec": json.dumps(spec), "torch_rng": torch.get_rng_state(),
          "pending": pending or {}}
    atomic_write(path, lambda f: torch.save(ck, f))  # whole or not at all, even after SIGKILL


def load_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise XwbError(f"{path}: no checkpoint to resume from")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # tensors and plain data only
    except Exception as e:
        raise XwbError(f"{path}: unreadable checkpoint ({str(e).splitlines()[0][:120]})") from None


def weights_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for _, p in sorted(model.named_parameters()):
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN says so: AMX or AVX512-BF16)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def precision(cfg: TrainConfig, device: str) -> str:
    """What a run computes in: fp16-mixed (CUDA with runtime.amp), bf16-mixed (runtime.cpu_bf16 on a CPU
    that has bf16) or fp32. The trainer and the run's tag ``xwb.precision`` both ask here."""
    if device.startswith("cuda"):
        return "fp16-mixed" if cfg.runtime.amp else "fp32"
    return "bf16-mixed" if cfg.runtime.cpu_bf16 and cpu_has_bf16() else "fp32"


class Trainer:
    """Runs epochs; calls ``on_epoch(state, train_stats)`` (returns val metrics on rank 0)."""

    def __init__(self, cfg: TrainConfig, net: torch.nn.Module, train_ds, device: str, d: Dist, progress):
        self.cfg, self.device, self.d, self.progress = cfg, device, d, progress
        self.cuda = device.startswith("cuda")
        self.amp = precision(cfg, device) == "fp16-mixed"
        self.bf16 = precision(cfg, device) == "bf16-mixed"
        self.channels_last = (self.cuda and cfg.runtime.channels_last) or self.bf16  # oneDNN's bf16 kernels want it
        self.net = net.to(device)
        # volumes (N, C, D, H, W) have their own channels-last layout
        self.memory_format = torch.channels_last_3d if cfg.task_type.volumes else torch.channels_last
        if self.channels_last:
            self.net = self.net.to(memory_format=self.memory_format)
        self.model = torch.nn.parallel.DistributedDataParallel(
            self.net, device_ids=[d.local_rank] if self.cuda else None) if d.on else self.net
        self.ds = train_ds
        g = torch.Generator()
        g.manual_seed(cfg.runtime.seed + d.rank)
        self.loader = DataLoader(train_ds, batch_size=cfg.data.batch_size, shuffle=cfg.task_type.shuffle,
                                 num_workers=cfg.data.workers, drop_last=len(train_ds) > cfg.data.batch_size,
                                 persistent_workers=False, pin_memory=self.cuda, generator=g)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
        self.steps_per_epoch = max(1, len(self.loader))
        self.sched = make_scheduler(cfg, self.opt, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        self.loss_fn = make_loss(cfg)
        self.state = State()
        self.ddp_log = os.environ.get("XWB_DDP_WEIGHT_LOG")

    def restore(self, ck: dict) -> None:
        self.net.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optim"])
        self.sched.load_state_dict(ck["sched"])
        if self.scaler is not None and ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        s = ck["state"]
        self.state = State(s["epoch"], s["global_step"], s["best"], s["best_epoch"], s["bad_epochs"])
        torch.set_rng_state(ck["torch_rng"])

    def step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        x = x.to(self.device, non_blocking=True)
        y = y.to(self.device, non_blocking=True)
        if self.channels_last and x.dim() in (4, 5):
            x = x.contiguous(memory_format=self.memory_format)
        if self.bf16:  # the network in bf16 where autocast allows; the loss in float32
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                out = self.model(x)
            loss = self.loss_fn(out.float(), y)
        else:
            with torch.autocast(device_type="cuda", enabled=self.amp):
                loss = self.loss_fn(self.model(x), y)
        if not torch.isfinite(loss):
            raise Diverged(f"loss became {loss.item()} at epoch {self.state.epoch}, "
                           f"step {self.state.global_step + 1}; lower optim.lr or check the labels")
        self.opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        if self.cfg.optim.clip_grad > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.optim.clip_grad)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        self.sched.step()
        self.state.global_step += 1
        if self.ddp_log:
            with open(Path(self.ddp_log) / f"rank{self.d.rank}.txt", "a") as f:
                f.write(f"{self.state.global_step} {weights_digest(self.net)} "
                        f"{hashlib.sha256(x.cpu().numpy().tobytes()).hexdigest()[:12]}\n")
        return float(loss.detach())

    def run_epoch(self) -> dict:
        e = self.state.epoch
        if hasattr(self.ds, "set_epoch"):
            self.ds.set_epoch(e)
        self.net.train()
        t0, seen, losses = time.perf_counter(), 0, []
        bar = self.progress.epoch_bar(e, self.cfg.optim.epochs, self.steps_per_epoch)
        for x, y in self.loader:
            losses.append(self.step(x, y))
            seen += x.shape[0] * self.d.world
            bar.update(losses[-1], seen / max(time.perf_counter() - t0, 1e-9))
        bar.close()
        secs = time.perf_counter() - t0
        return {"train_loss": float(np.mean(losses)) if losses else math.nan,
                "lr": float(self.opt.param_groups[0]["lr"]), "images_per_s": seen / max(secs, 1e-9),
                "epoch_seconds": secs}

    def improved(self, value: float) -> bool:
        """Early-stopping bookkeeping after an epoch's validation; True when ``value`` is the best so far."""
        s = self.state
        if value is not None and not math.isnan(value) and value > s.best:
            s.best, s.best_epoch, s.bad_epochs = value, s.epoch, 0
            return True
        s.bad_epochs += 1
        return False

    def should_stop(self) -> bool:
        p = self.cfg.optim.patience
        return p > 0 and self.state.bad_epochs >= p

    def broadcast_stop(self, stop: bool) -> bool:
        if not self.d.on:
            return stop
        flag = [stop]
        dist.broadcast_object_list(flag, src=0)
        return bool(flag[0])
