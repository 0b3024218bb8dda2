"""Training step on the CPU: float32 against bfloat16 mixed precision (``runtime.cpu_bf16``), and torch
threads, measured in one process, interleaved, so a busy machine slows every setting alike.

For the shipped segmentation networks (FPN/mobilenet_v2, Unet/resnet18) at the recipes' crop sizes, one
AdamW step (forward, loss in float32, backward, update) of 8 crops: float32 (contiguous, as xwb trains on
CPU without the option) against bf16 autocast + channels-last; each at 1 and 2 threads. Median of
``--rounds`` rounds of ``--steps`` steps, after a warm-up. Prints ms per step and the ratio.

Run: .venv/bin/python benchmarks/bench_cpu_amp.py [--rounds 5] [--steps 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from smoke import parse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--batch", type=int, default=8)
    a = parse(ap, rounds=1, steps=1, sizes="64", batch=2)
    import segmentation_models_pytorch as smp

    from training.loop.trainer import cpu_has_bf16

    print(f"CPU bf16 native: {cpu_has_bf16()}; capability {torch.backends.cpu.get_cpu_capability()}; "
          f"torch {torch.__version__}")
    for arch, enc in (("FPN", "mobilenet_v2"), ("Unet", "resnet18")):
        for size in (int(s) for s in a.sizes.split(",")):
            torch.manual_seed(0)
            net = smp.create_model(arch, encoder_name=enc, encoder_weights=None, in_channels=3, classes=11)
            opt = torch.optim.AdamW(net.parameters(), 1e-4)
            x = torch.randn(a.batch, 3, size, size)
            y = torch.randint(0, 11, (a.batch, size, size))

            def step(bf16: bool) -> None:
                xx = x.contiguous(memory_format=torch.channels_last) if bf16 else x  # noqa: B023 (called within this iteration)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    out = net(xx)  # noqa: B023 (called within this iteration)
                loss = torch.nn.functional.cross_entropy(out.float(), y)  # noqa: B023 (called within this iteration)
                opt.zero_grad()  # noqa: B023 (called within this iteration)
                loss.backward()
                opt.step()  # noqa: B023 (called within this iteration)

            modes = [(p, t) for t in (1, 2) for p in ("fp32", "bf16")]
            times: dict = {m: [] for m in modes}
            for r in range(a.rounds + 1):
                for prec, threads in modes:
                    torch.set_num_threads(threads)
                    net.to(memory_format=torch.channels_last if prec == "bf16" else torch.contiguous_format)
                    t = time.perf_counter()
                    for _ in range(a.steps):
                        step(prec == "bf16")
                    if r:  # round 0 warms up
                        times[(prec, threads)].append((time.perf_counter() - t) / a.steps)
            med = {m: statistics.median(v) * 1000 for m, v in times.items()}
            print(f"{arch}/{enc} {a.batch}x3x{size}^2: " + ", ".join(f"{p} {t} thr {med[(p, t)]:.0f} ms" for p, t in modes) +
                  f" | bf16/fp32 speed-up at 2 threads {med[('fp32', 2)] / med[('bf16', 2)]:.2f}x, "
                  f"2 threads/1 thread (fp32) {med[('fp32', 1)] / med[('fp32', 2)]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
