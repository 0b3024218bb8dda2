"""Inference time per scan on the CPU, and what sliding windows cost over one forward pass.

    python benchmarks/bench_inference.py [--threads 2]
Sliding window (tiles up to 1024 px, 64 px overlap, smooth blending, features and
normalisation included) against a single forward pass of the same network over
the same padded pixels. Target: within 1.3x.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--encoder", default="resnet18")
    ap.add_argument("--scans", default="baggage:384x512,baggage:768x1024,cargo:2048x8192", help="KIND:HxW,...")
    a = parse(ap, scans="baggage:128x160", threads=1)
    import numpy as np
    import torch
    import torch.nn.functional as F

    from datasets.synth.build import make_scan
    from training.inference.predict import Predictor
    from training.nets import model_code
    from training.nets.models import create

    torch.set_num_threads(a.threads)
    spec = {"xwb_model": 1, "task": "seg", "model": {"arch": "Unet", "encoder": a.encoder},
            "classes": [f"c{i}" for i in range(10)], "tile": 1024, "overlap": 64, "pad_multiple": 32,
            "preprocess": {"channels": ["high", "low", "diff"], "raw_channels": 2, "default_i0": [60000.0, 60000.0],
                           "default_dark": 0.0, "mean": [1.0, 1.2, 0.2], "std": [1.0, 1.0, 0.3]}}
    torch.manual_seed(0)
    net = create(spec, None).eval()
    pred = Predictor(net, spec)
    print(f"Unet/{a.encoder}, 11 outputs, CPU {torch.get_num_threads()} threads")
    for kind, hw in (s.split(":") for s in a.scans.split(",")):
        size = tuple(int(v) for v in hw.split("x"))
        s = make_scan(kind, 1, 0, size, ["firearm", "drugs"])
        counts, i0, dark = s.counts, s.meta["i0"], s.meta.get("dark", 0.0)
        pred.predict_counts(counts[:256, :256], i0, dark)  # warm
        t = time.perf_counter()
        p = pred.predict_counts(counts, i0, dark)
        ours = time.perf_counter() - t

        def single():
            f = model_code.features(np.moveaxis(counts, -1, 0), spec["preprocess"], i0, dark)  # noqa: B023 (called within this iteration)
            h, w = f.shape[1:]
            x = model_code.normalise(torch.from_numpy(f), spec["preprocess"])[None]
            x = F.pad(x, (0, math.ceil(w / 32) * 32 - w, 0, math.ceil(h / 32) * 32 - h))
            with torch.no_grad():
                return torch.softmax(net(x), 1)[0, :, :h, :w]
        t = time.perf_counter()
        q = single()
        one = time.perf_counter() - t
        agree = float((q.argmax(0).numpy() == p.labels()).mean())
        th, ys = model_code.tiling(size[0], 1024, 64)
        tw, xs = model_code.tiling(size[1], 1024, 64)
        print(f"  {kind} {size[1]}x{size[0]} 16-bit dual: sliding window {ours:.2f} s ({len(ys) * len(xs)} tiles of "
              f"{tw}x{th}), one forward pass {one:.2f} s, ratio {ours / one:.2f}x; labels agree on {agree:.1%} of pixels")


if __name__ == "__main__":
    main()
