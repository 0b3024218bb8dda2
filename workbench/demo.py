"""``make demo``: build the synthetic demo projects and run what exists of the loop.

Re-running reuses the projects already built. Training, evaluation and the
workbench join this script as their issues land.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from datasets.errors import XwbError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"


def step(msg: str) -> None:
    print(f"\n== {msg}", flush=True)


def main() -> int:
    from workbench.cli import main as xwb

    t0 = time.perf_counter()
    DEMO.mkdir(exist_ok=True)
    projects = {"baggage": dict(count=40, size="384x512", unlabelled=4), "cargo": dict(count=8, size="512x2048", unlabelled=1)}
    for kind, o in projects.items():
        out = DEMO / kind
        if (out / "project.yaml").exists():
            step(f"{kind} demo project already built: {out} (delete it to rebuild)")
        else:
            step(f"building a synthetic {kind} project: {o['count']} dual-energy scans, {o['size']}")
            rc = xwb(["synth", str(out), "--kind", kind, "--count", str(o["count"]), "--seed", "7", "--size", o["size"],
                      "--unlabelled", str(o["unlabelled"])])
            if rc:
                return rc
        step(f"xwb info {out}")
        xwb(["info", str(out)])
        step(f"exporting {kind} labels as COCO and label maps")
        xwb(["export", "coco", str(out), str(DEMO / "exports" / kind)])
        xwb(["export", "masks", str(out), str(DEMO / "exports" / kind / "masks")])
    step(f"done in {time.perf_counter() - t0:.0f} s")
    print(f"  projects:  {DEMO / 'baggage'}, {DEMO / 'cargo'}")
    print(f"  exports:   {DEMO / 'exports'}")
    print("  pictures:  docs/synth_cargo.png, docs/synth_baggage.png")
    print("  not yet in the demo: training, evaluation/compare and the workbench window (open issues 4-7)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except XwbError as e:
        print(f"demo: error: {e}", file=sys.stderr)
        sys.exit(1)
