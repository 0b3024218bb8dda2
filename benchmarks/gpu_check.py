"""The one prepared GPU check (issue 16): run it when a GPU machine is lent for a few minutes; never in CI.

1. Images/s of one training step, ours (Trainer with the recipe's AMP and channels_last) against a bare
   PyTorch loop on the same model and batch (``bench_train_step.py --device cuda``).
2. The GPU recipe trained for a fixed short budget on a synthetic baggage project, then measured on a
   held-out project of another seed (every scan): mIoU, mean Pd at PFA 1 % / 5 %, per class IoU.

Run (on the GPU machine, from the repository root, after `make venv` or with the venv carried there):
    .venv/bin/python benchmarks/gpu_check.py --out /tmp/gpucheck [--scans 240] [--epochs 8]
Prints every figure; the MLflow store of the training project keeps the run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from smoke import parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="a folder for the projects (required but under --smoke)")
    ap.add_argument("--recipe", default="configs/seg_deeplabv3plus_resnet34.yaml")
    ap.add_argument("--scans", type=int, default=240)
    ap.add_argument("--test-scans", type=int, default=120)
    ap.add_argument("--size", default="384x512")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--crops", type=int, default=2048, help="crops per epoch")
    ap.add_argument("--set", action="append", default=[], help="more recipe overrides")
    a = parse(ap, scans=8, test_scans=2, size="128x160", epochs=1, crops=4, recipe="configs/seg_tiny.yaml",
              set=["data.val_max_images=2", "eval.overlays=0"])
    import torch

    if torch.cuda.is_available():
        device, steps = "cuda", [("--batch", "16", "--size", "512", "--steps", "20"),
                                 ("--batch", "32", "--size", "256", "--steps", "20")]
        print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    elif a.smoke:  # the path on the CPU, so that the check cannot rot between GPU loans
        device, steps = "cpu", [("--smoke",)]
    else:
        raise SystemExit("no CUDA device: this check is for a lent GPU machine")
    for args in steps:
        subprocess.run([sys.executable, str(HERE / "bench_train_step.py"), "--device", device, *args], check=True)

    from bench_active import held_out_figures

    from datasets.synth.build import synth_project
    from training.loop.run import train

    if not a.out:
        raise SystemExit("--out FOLDER is needed")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    h, w = (int(v) for v in a.size.split("x"))
    t = time.perf_counter()
    proj = synth_project(out / "train", "baggage", a.scans, seed=5151, size=(h, w))
    test = synth_project(out / "heldout", "baggage", a.test_scans, seed=6161, size=(h, w))
    print(f"synthetic projects: {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    r = train(a.recipe, proj, [f"optim.epochs={a.epochs}", f"data.crops_per_epoch={a.crops}", "optim.patience=0",
                               f"data.workers={min(8, os.cpu_count() or 1)}", *a.set])
    train_s = time.perf_counter() - t
    uri = f"models:/{r.registered_model}/{r.version}"
    f = held_out_figures(uri, proj, test)
    print(f"\n{Path(a.recipe).stem}, {a.epochs} epochs x {a.crops} crops: {train_s / 60:.1f} min of training")
    print(f"held-out ({f['scans']} scans of seed 6161): mIoU {f['mIoU']:.3f}  mean Pd at PFA 1 % {f['mPd1']:.3f}  "
          f"at 5 % {f['mPd5']:.3f}")
    print(f"{'class':13s} {'scans':>5s} {'IoU':>6s} {'Pd@1%':>6s} {'Pd@5%':>6s}")
    for c, row in f["per_class"].items():
        cells = [f"{row[k]:6.3f}" if row[k] is not None and row[k] == row[k] else "   n/a" for k in ("IoU", "Pd_pfa1", "Pd_pfa5")]
        print(f"{c:13s} {row['scans_with']:5d} " + " ".join(cells))


if __name__ == "__main__":
    main()
