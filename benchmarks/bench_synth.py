"""Synthetic scan speed on one core, and TIP into a 512x512 crop.

Targets (issue 3): >= 5 baggage scans/s (1024x768 dual-energy), < 5 s per
2048x8192 cargo scan, TIP < 10 ms per crop. Includes the TIFF write.
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_synth.py
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from smoke import parse  # noqa: E402

from datasets.scanio import write_tiff  # noqa: E402
from datasets.synth.build import make_scan  # noqa: E402
from datasets.synth.objects import THREATS  # noqa: E402
from datasets.synth.physics import render_counts  # noqa: E402
from datasets.synth.scenes import build_scene  # noqa: E402
from datasets.synth.tip import project_threat  # noqa: E402

CLASSES = list(THREATS)


def timed(fn, n):
    t = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        t.append(time.perf_counter() - t0)
    return float(np.median(t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bag", default="768x1024", help="baggage scan HxW")
    ap.add_argument("--cargo", default="2048x8192", help="cargo scan HxW")
    ap.add_argument("--repeat", type=int, default=12, help="baggage scans timed (cargo: a quarter, TIP: 4x)")
    a = parse(ap, bag="128x160", cargo="128x512", repeat=2)
    bh, bw = (int(v) for v in a.bag.split("x"))
    ch, cw = (int(v) for v in a.cargo.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        def bag(i):
            s = make_scan("baggage", 1, i, (bh, bw), CLASSES)
            write_tiff(Path(tmp) / "b.tiff", s.counts, meta=s.meta)

        dt = timed(bag, a.repeat)
        print(f"baggage {bw}x{bh} dual-energy scan incl. TIFF write: {dt * 1000:.0f} ms median -> {1 / dt:.1f} scans/s "
              f"(target >= 5)")

        def cargo(i):
            s = make_scan("cargo", 1, i, (ch, cw), CLASSES)
            write_tiff(Path(tmp) / "c.tiff", s.counts, meta=s.meta)

        dt = timed(cargo, max(1, a.repeat // 4))
        print(f"cargo {ch}x{cw} dual-energy scan incl. TIFF write: {dt:.2f} s median (target < 5 s)")

        rng = np.random.default_rng(0)
        att = np.zeros((2, ch, cw), np.float32)
        t0 = time.perf_counter()
        render_counts(att, build_scene("cargo", rng, (128, 512), []).detector, rng)
        print(f"  of which exp + quantum noise + blur over 2x{ch}x{cw}: {time.perf_counter() - t0:.2f} s")

    # TIP: a labelled threat from one baggage scan into 512x512 crops of another
    scene = build_scene("baggage", np.random.default_rng(3), (bh, bw), CLASSES, threat_rate=1.0)
    src = scene.render(np.random.default_rng(3))
    k = next(k for k, th in enumerate(scene.things) if th.is_threat)
    vis, x, y = scene.visible_mask(k, scene.attenuation())
    mask = np.zeros(src.shape[:2], bool)
    mask[y:y + vis.shape[0], x:x + vis.shape[1]] = vis
    dst = make_scan("baggage", 2, 0, (bh, bw), CLASSES).counts[:512, :512].copy()
    meta = scene.detector.meta()
    r = np.random.default_rng(1)
    dh, dw = dst.shape[:2]

    def tip(i):
        return project_threat(src, mask, dst, r.uniform(0.2 * dw, 0.8 * dw), r.uniform(0.2 * dh, 0.8 * dh),
                              r.uniform(0.7, 1.3), r.uniform(0, 360), r.uniform(0.8, 1.2), meta, meta)

    dt = timed(tip, 4 * a.repeat)
    print(f"TIP of one {scene.things[k].kind} ({int(mask.sum())} px) into a {dw}x{dh} crop: {dt * 1000:.1f} ms median "
          f"(target < 10 ms)")


if __name__ == "__main__":
    main()
