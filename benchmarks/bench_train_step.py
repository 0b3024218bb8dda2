"""Training-step overhead: our Trainer.step against a bare PyTorch loop, same smp model, batch and data.

Both run in this process on the same in-memory batch, interleaved, so drift hits both alike.
    python benchmarks/bench_train_step.py [--device cuda] [--batch 8] [--size 256]
On CUDA the config's mixed precision and channels_last are on for ours and for the bare loop.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    a = parse(ap, batch=2, size=64, steps=1, rounds=1)
    import segmentation_models_pytorch as smp
    import torch

    from training.loop.progress import Progress
    from training.loop.trainer import Dist, Trainer
    from training.recipes.config import parse_config

    cuda = a.device.startswith("cuda")
    cfg = parse_config({"data": {"batch_size": a.batch}, "runtime": {"amp": cuda, "channels_last": cuda}}, "bench")
    torch.manual_seed(0)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, 11, (a.batch, a.size, a.size))

    ours_net = smp.Unet("resnet18", encoder_weights=None, in_channels=3, classes=11)
    bare_net = smp.Unet("resnet18", encoder_weights=None, in_channels=3, classes=11)
    bare_net.load_state_dict(ours_net.state_dict())
    trainer = Trainer(cfg, ours_net, [(x[0], y[0])] * a.batch, a.device, Dist(), Progress(enabled=False))

    bare_net.to(a.device)
    if cuda:
        bare_net = bare_net.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(bare_net.parameters(), lr=1e-3, weight_decay=1e-4)
    dice = smp.losses.DiceLoss(mode="multiclass")
    ce = torch.nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler("cuda") if cuda else None

    def bare_step():
        xb, yb = x.to(a.device, non_blocking=True), y.to(a.device, non_blocking=True)
        if cuda:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type="cuda", enabled=cuda):
            out = bare_net(xb)
            loss = dice(out, yb) + ce(out, yb)
        opt.zero_grad(set_to_none=True)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        return float(loss.detach())

    def timed(fn) -> float:
        fn()  # warm
        if cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(a.steps):
            fn()
        if cuda:
            torch.cuda.synchronize()
        return (time.perf_counter() - t) / a.steps

    ours, bare = [], []
    for _ in range(a.rounds):
        bare.append(timed(bare_step))
        ours.append(timed(lambda: trainer.step(x, y)))
    o, b = statistics.median(ours), statistics.median(bare)
    dev = torch.cuda.get_device_name(0) if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"train step, smp Unet/resnet18, batch {a.batch}x3x{a.size}x{a.size}, {dev}"
          f"{', AMP + channels_last' if cuda else ''}:")
    print(f"  bare loop {b * 1000:.0f} ms/step ({a.batch / b:.1f} img/s)   ours {o * 1000:.0f} ms/step "
          f"({a.batch / o:.1f} img/s)   ours/bare = {o / b:.3f}")


if __name__ == "__main__":
    main()
