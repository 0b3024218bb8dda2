"""Data loading: augmented crops per second from a 2048x8192 16-bit dual-energy cargo scan,
and whether 2 DataLoader workers keep a Unet/resnet18 training step fed.

    python benchmarks/bench_loader.py [--tile 256] [--batch 8]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--size", default="2048x8192", help="cargo scan HxW")
    ap.add_argument("--crops", type=int, default=200, help="crops timed in one process")
    a = parse(ap, tile=64, batch=2, steps=1, size="512x640", crops=4)
    import torch
    from torch.utils.data import DataLoader

    from datasets.project import Project
    from datasets.synth.build import synth_project
    from training import tasks
    from training.loop import data as D
    from training.loop.progress import Progress
    from training.loop.trainer import Dist, Trainer
    from training.nets.models import create
    from training.recipes.config import parse_config

    with tempfile.TemporaryDirectory() as tmp:
        proj = synth_project(Path(tmp) / "cargo", "cargo", 2, seed=3, size=tuple(int(v) for v in a.size.split("x")))
        cfg = parse_config({"data": {"tile": a.tile, "batch_size": a.batch, "crops_per_epoch": 10_000,
                                     "channels": ["high", "low", "diff"]},
                            "augment": {"hflip": 0.5, "vflip": 0.5, "rot90": 0.5, "scale": 0.3, "noise": 0.3,
                                        "gain": 0.3, "tip": 0.3}}, "bench")
        with Project.open(proj, readonly=True) as p:
            names = D.class_names(p, cfg)
            items = D.load_items(p, "train", names, tasks.get("seg")) + D.load_items(p, "val", names, tasks.get("seg")) + \
                D.load_items(p, "test", names, tasks.get("seg"))
        pre = {"channels": cfg.data.channels, "mean": [1.0, 1.0, 0.3], "std": [1.0, 1.0, 0.3]}
        ds = D.SegCrops(items, cfg, pre, bank=D.threat_bank(items))
        ds[0]
        n = a.crops
        t = time.perf_counter()
        for i in range(n):
            ds[i]
        crops_s = n / (time.perf_counter() - t)
        print(f"loader, {len(items)} cargo scans {a.size}x2 uint16 (memory-mapped TIFF), tile {a.tile}, "
              f"flips/rot90/scale/noise/gain/TIP, log-transmission features:")
        print(f"  one process: {crops_s:.0f} crops/s ({1000 / crops_s:.1f} ms per crop)")

        spec = {"task": "seg", "model": {"arch": "Unet", "encoder": "resnet18"}, "classes": names,
                "preprocess": {"channels": cfg.data.channels}}
        net = create(spec, None)
        trainer = Trainer(cfg, net, ds, "cpu", Dist(), Progress(enabled=False))
        x = torch.randn(a.batch, 3, a.tile, a.tile)
        y = torch.zeros(a.batch, a.tile, a.tile, dtype=torch.long)
        trainer.step(x, y)
        t = time.perf_counter()
        for _ in range(a.steps):
            trainer.step(x, y)
        step_s = (time.perf_counter() - t) / a.steps
        need = a.batch / step_s
        print(f"  the model eats {need:.1f} crops/s (Unet/resnet18 step {step_s * 1000:.0f} ms, batch {a.batch})")
        for workers in (0, 2):
            loader = DataLoader(ds, batch_size=a.batch, num_workers=workers, persistent_workers=workers > 0)
            it = iter(loader)
            next(it)
            wait = compute = 0.0
            for _ in range(a.steps):
                t0 = time.perf_counter()
                xb, yb = next(it)
                t1 = time.perf_counter()
                trainer.step(xb, yb)
                t2 = time.perf_counter()
                wait, compute = wait + t1 - t0, compute + t2 - t1
            del it, loader
            share = wait / (wait + compute)
            print(f"  training with {workers} workers: {a.batch * a.steps / (wait + compute):.1f} crops/s, "
                  f"{share:.0%} of the time waiting for data")


if __name__ == "__main__":
    main()
