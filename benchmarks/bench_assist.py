"""Assisted labelling measured the way interactive-segmentation papers do (issue 14): clicks to an IoU.

A scripted annotator (``workbench/assist/robot.py``) labels every threat of synthetic baggage scans of a seed
no recipe or tool was tuned on, per occlusion level (easy / hidden):
- magic wand: first click at the object's interior point farthest from its boundary, each next click at the
  interior point of the largest error (positive: Shift adds; negative: Alt takes away); the robot picks the
  tolerance from the tool's fixed set, as an annotator drags until it looks right; at most 20 clicks;
- live wire: anchors on the corners of the true outline, fewest first (clicks = anchors; 20 if never);
- polygon baseline: vertices of the simplest polygon (Douglas-Peucker of the true outline) reaching the IoU;
- click model (with ``--click-project P``: the project's registered ``<P>-click``): the same protocol as the
  wand, left clicks positive and right clicks negative, in the tool's window around the clicks (256 px,
  grown while the object reaches its edge).
NoC@85 / NoC@90 are the mean clicks to IoU 0.85 / 0.90, per class and level. Then the milliseconds one
click costs on a 2048 x 8192 dual-energy scan: a wand click, a live-wire anchor (cost map of its crop) and a
live-wire cursor move (path from the map).

Run: .venv/bin/python benchmarks/bench_assist.py [--scans 20] [--seed 4242] [--click-project PROJECT]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

from datasets.synth import objects as O  # noqa: E402
from datasets.synth.build import make_scan  # noqa: E402
from workbench.assist import robot as R  # noqa: E402
from workbench.assist import wand as W  # noqa: E402
from workbench.assist.livewire import LiveWire  # noqa: E402
from workbench.assist.masks import Patch  # noqa: E402
from workbench.assist.signal import ScanSignal  # noqa: E402

TARGETS = (0.85, 0.9)


def click_step(signal: ScanSignal, backend, fixed: int | None = None):
    """The click model as the robot uses it: one session per object, each click added to it (``fixed``: one
    window size, never grown: the tool before it adapted its window, the baseline)."""
    from workbench.assist.interactive import ClickSession

    state = {}

    def step(pred, x, y, positive):
        if pred is None or "s" not in state:
            state["s"] = ClickSession(signal, backend) if fixed is None else ClickSession(signal, backend, fixed, fixed)
        return state["s"].add(x, y, positive)
    return step


def noc(scans: int, seed: int, backend=None, click_only: bool = False, size=(768, 1024)) -> dict:
    rows = defaultdict(lambda: defaultdict(list))  # (level, class) -> tool -> [(noc85, noc90)]
    for level in ("easy", "hidden"):
        for i in range(scans):
            s = make_scan("baggage", seed, i, size, list(O.THREATS), level)
            sig = ScanSignal(s.counts, tuple(s.meta["i0"]), float(s.meta["dark"]))
            for name, m, x, y in s.regions:
                truth = Patch(m.astype(bool), x, y)
                got = []
                if not click_only:
                    w, _ = R.clicks_to(R.wand_step(sig, truth), truth, TARGETS)
                    lw, _ = R.livewire_anchors(sig, truth, TARGETS)
                    got += [("wand", w), ("live wire", lw), ("polygon", R.polygon_vertices(truth, TARGETS))]
                if backend is not None:
                    got.append(("click model", R.clicks_to(click_step(sig, backend), truth, TARGETS)[0]))
                    got.append(("click 512 fixed", R.clicks_to(click_step(sig, backend, 512), truth, TARGETS)[0]))
                for tool, need in got:
                    rows[(level, name)][tool].append(tuple(need[t] for t in TARGETS))
                print(f"  {level:6s} scan {i} {name:12s} {truth.area:7d} px  " +
                      "  ".join(f"{tool} {n[0.85]:2d}/{n[0.9]:2d}" for tool, n in got), flush=True)
    return rows


def timing(repeat: int, seed: int, backend=None, size=(2048, 8192)) -> dict:
    s = make_scan("cargo", seed, 0, size, list(O.THREATS), "easy")
    sig = ScanSignal(s.counts, tuple(s.meta["i0"]), float(s.meta["dark"]))
    rng = np.random.default_rng(seed)
    out = defaultdict(list)
    for _ in range(repeat):
        x, y = float(rng.uniform(200, 7900)), float(rng.uniform(200, 1850))
        t = time.perf_counter()
        W.wand(sig, x, y, W.DEFAULT_TOLERANCE)
        out["wand click"].append(time.perf_counter() - t)
        wire = LiveWire(sig)
        wire.add_anchor(x, y)
        t = time.perf_counter()
        wire.path_to(x + 100, y + 60)  # the first move builds the anchor's cost map
        out["live wire anchor (cost map)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        wire.path_to(x + 140, y + 20)
        out["live wire move (path)"].append(time.perf_counter() - t)
        if backend is not None:
            for label, fixed in (("click model", None), ("click model, 512 px fixed", 512)):
                s = click_step(sig, backend, fixed)
                t = time.perf_counter()
                s(None, x, y, True)
                out[label].append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scans", type=int, default=6, help="scans per occlusion level")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--click-project", help="a project with a registered <name>-click model (xwb train "
                                            "configs/click_unet.yaml)")
    ap.add_argument("--click-only", action="store_true", help="only the click model (and its 512 px baseline)")
    ap.add_argument("--bag", default="768x1024", help="baggage scan HxW for the click counts")
    ap.add_argument("--cargo", default="2048x8192", help="cargo scan HxW for the timings")
    a = parse(ap, scans=1, repeat=1, bag="192x256", cargo="512x640")
    bag, cargo = (tuple(int(v) for v in s.split("x")) for s in (a.bag, a.cargo))
    backend = None
    if a.click_project:
        import torch

        from workbench.click_model import ModelBackend

        torch.set_num_threads(2)
        folder = Path(a.click_project)
        backend = ModelBackend(folder, folder.name)
        print(f"click model: {backend.uri} of {folder}")
    print(f"clicks to IoU 0.85 / 0.90 on {a.scans} synthetic bags per level (seed {a.seed}, {a.bag}):")
    rows = noc(a.scans, a.seed, backend, a.click_only, bag)
    tools = (() if a.click_only else ("wand", "live wire", "polygon")) + \
        (("click model", "click 512 fixed") if backend is not None else ())
    print(f"\n{'level':7s}{'class':13s}{'n':>3s}  " + "  ".join(f"{t:>17s}" for t in tools))
    for level in ("easy", "hidden"):
        tot = defaultdict(list)
        for (lv, name), by_tool in sorted(rows.items()):
            if lv != level:
                continue
            n = len(by_tool[tools[0]])
            cells = []
            for t in tools:
                v = np.array(by_tool[t], float)
                tot[t] += by_tool[t]
                cells.append(f"{v[:, 0].mean():7.1f} / {v[:, 1].mean():5.1f}  ")
            print(f"{level:7s}{name:13s}{n:3d}  " + "".join(f"{c:>19s}" for c in cells))
        cells = [f"{np.array(tot[t])[:, 0].mean():7.1f} / {np.array(tot[t])[:, 1].mean():5.1f}  " for t in tools]
        print(f"{level:7s}{'all':13s}{len(tot[tools[0]]):3d}  " + "".join(f"{c:>19s}" for c in cells))
    print(f"\nmilliseconds per click on a {a.cargo} dual-energy scan (median of {a.repeat}, at random places):")
    for k, v in timing(a.repeat, a.seed, backend, cargo).items():
        print(f"  {k:30s} {statistics.median(v) * 1000:7.1f} ms  (max {max(v) * 1000:.1f})")


if __name__ == "__main__":
    main()
