"""``xwb synth``: the built-in synthetic dataset."""
from __future__ import annotations

import argparse
import sys
import time

from datasets.errors import XwbError


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise XwbError(f"--size must be HxW, e.g. 768x1024, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise XwbError(f"--size must be positive, got {text!r}")
    return h, w


def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        z, y, x = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise XwbError(f"--size of a CT bag must be ZxYxX voxels, e.g. 80x96x128, got {text!r}") from None
    return z, y, x


def cmd_synth(a) -> int:
    from datasets.synth.build import synth_project
    from datasets.synth.ct_project import KIND as CT_KIND

    classes = [c.strip() for c in a.classes.split(",") if c.strip()] if a.classes else None
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(i, n):
        if tty:
            print(f"\r  {a.kind} scans {i}/{n}", end="" if i < n else "\n", file=sys.stderr, flush=True)
        elif i == n or i % max(1, n // 10) == 0:
            print(f"  {a.kind} scans {i}/{n}", file=sys.stderr, flush=True)

    if a.kind == CT_KIND:  # volumes: their own generator (datasets/synth/ct.py)
        from datasets.synth.ct_project import synth_ct_project

        out = synth_ct_project(a.out, a.count, a.seed, parse_shape(a.size) if a.size else None, classes,
                               dual=a.dual_energy, streaks=a.metal_streaks, undeclared=a.undeclared, clean=a.clean,
                               unlabelled=a.unlabelled, progress=progress)
        print(f"wrote {a.count} synthetic CT bags to {out} in {time.perf_counter() - t0:.1f} s")
        return 0
    if a.dual_energy or a.metal_streaks:
        raise XwbError(f"--dual-energy and --metal-streaks are for --kind {CT_KIND}; 2-D scans are dual-energy already")
    size = parse_size(a.size) if a.size else None
    out = synth_project(a.out, a.kind, a.count, a.seed, size, a.occlusion, classes, a.undeclared, a.unlabelled,
                        progress=progress, render=a.render, clean=a.clean)
    what = "" if a.render == "counts" else f" {a.render}"
    print(f"wrote {a.count} synthetic{what} {a.kind} scans to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="build a synthetic dual-energy project with ground truth",
                       description="Write a complete project of synthetic dual-energy scans with exact masks.")
    p.add_argument("out", help="new project folder (must not exist or be empty)")
    p.add_argument("--kind", default="baggage", help="cargo | baggage | parcel (2-D scans) | ct-baggage (CT volumes)")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", help="HxW in pixels (default: cargo 512x2048, baggage 768x1024, parcel 512x640); "
                                  "ct-baggage: ZxYxX voxels (default 80x96x128, 4 mm voxels)")
    p.add_argument("--occlusion", default="mixed", help="easy | hard | hidden | mixed")
    p.add_argument("--classes", help="comma-separated classes to generate (default: all the taxonomy has)")
    p.add_argument("--undeclared", type=float, default=0.2, help="share of scans with goods missing from the manifest")
    from datasets.synth import CLEAN  # the package is loaded already: no start-up cost

    p.add_argument("--clean", type=float, default=CLEAN,
                   help=f"share of scans drawn without contraband (default {CLEAN}, rich in positives for training; "
                        "a port's traffic: e.g. --clean 0.95 --undeclared 0.05)")
    p.add_argument("--unlabelled", type=int, default=0, help="leave the last N scans without labels (for pre-labelling)")
    p.add_argument("--render", default="counts",
                   help="counts (16-bit dual-energy TIFF, default) | pseudo-colour (8-bit RGB PNG, the SIXray "
                        "style) | single-energy (16-bit grey TIFF, no scanner facts)")
    p.add_argument("--dual-energy", action="store_true", help="ct-baggage: two channels (high, low energy)")
    p.add_argument("--metal-streaks", action="store_true", help="ct-baggage: reconstruction streaks around metal")
    p.set_defaults(func=cmd_synth)
