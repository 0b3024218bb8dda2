"""A short real training run on a synthetic baggage project: what val IoU a few CPU minutes buy.

    python benchmarks/bench_short_run.py [--recipe configs/seg_unet_resnet18.yaml] [--scans 40]
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
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from smoke import TINY, parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", default=str(REPO / "configs" / "seg_unet_resnet18.yaml"))
    ap.add_argument("--scans", type=int, default=40)
    ap.add_argument("--size", default="384x512")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    a = parse(ap, recipe=str(REPO / "configs" / "seg_tiny.yaml"), scans=8, size="128x160",
              overrides=TINY)
    import torch

    from datasets.synth.build import synth_project
    from training.loop.run import train

    with tempfile.TemporaryDirectory() as tmp:
        h, w = map(int, a.size.split("x"))
        proj = synth_project(Path(tmp) / "bag", "baggage", a.scans, seed=7, size=(h, w))
        t = time.perf_counter()
        r = train(a.recipe, proj, a.overrides, quiet=False)
        secs = time.perf_counter() - t
        m = r.metrics
        print(f"\nshort run: {Path(a.recipe).name} on {a.scans} synthetic baggage scans {a.size}, "
              f"{torch.get_num_threads()} CPU threads: {secs / 60:.1f} min")
        print(f"  best val mIoU {m['best_val_mIoU']:.3f}  mDice {m['best_val_mDice']:.3f}  "
              f"mPd@PFA1% {m.get('best_val_mPd_pfa1', float('nan')):.3f}  "
               f"mPd@PFA5% {m.get('best_val_mPd_pfa5', float('nan')):.3f}"
              f"  (best epoch {int(m['best_epoch'])})")
        for k in sorted(m):
            if k.startswith("val_IoU_"):
                print(f"  {k[8:]:>12}: IoU {m[k]:.3f}")


if __name__ == "__main__":
    main()
