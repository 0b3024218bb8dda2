"""The declared-material check (``xwb material-check``, issue 16) at a port's base rate, against flagging blind.

Reference projects (seeds 23/33; clean 0.9, undeclared 0.1) set the thresholds from their complete
manifests; test projects of other seeds have a realistic base rate (``--clean 0.95 --undeclared 0.05``) and
a richer one (``--undeclared 0.3``). For each kind and false-alarm budget on complete manifests: flag
precision and recall against the synthetic truth (contraband or undeclared goods), recall on the
undeclared goods alone, and the baselines (flag every scan; flag as many at random).

Run: .venv/bin/python benchmarks/bench_material_check.py [--out /tmp/xwb-material]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

from datasets.material_check import material_check  # noqa: E402
from datasets.synth.build import synth_project  # noqa: E402

KINDS = {"cargo": ((256, 1024), 23), "baggage": ((384, 512), 33)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/xwb-material")
    ap.add_argument("--ref-scans", type=int, default=300)
    ap.add_argument("--test-scans", type=int, default=200)
    ap.add_argument("--scale", type=float, default=1.0, help="scan sizes times this (smaller is quicker)")
    a = parse(ap, ref_scans=8, test_scans=6, scale=0.5)
    out = Path(a.out)
    shutil.rmtree(out, ignore_errors=True)
    print("| kind | test base rate | PFA on complete manifests | flagged | precision | recall | recall, undeclared "
          "goods only | flag everything: precision | random, same rate: recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for kind, (full, seed) in KINDS.items():
        size = tuple(int(v * a.scale) for v in full)
        ref = synth_project(out / f"{kind}-ref", kind, a.ref_scans, seed=seed, size=size, clean=0.9, undeclared=0.1)
        for name, clean, und in (("port (clean .95, undeclared .05)", 0.95, 0.05),
                                 ("rich (clean .9, undeclared .3)", 0.9, 0.3)):
            test = synth_project(out / f"{kind}-test-{und}", kind, a.test_scans, seed=seed + 1, size=size,
                                 clean=clean, undeclared=und)
            for pfa in (0.02, 0.05, 0.1):
                s = material_check(test, reference=ref, pfa=pfa, quiet=True)
                import csv

                with open(s["csv"]) as f:
                    rows = list(csv.DictReader(f))
                und_rows = [r for r in rows if "undeclared:" in r["truth"]]
                und_rec = sum(r["flag"] == "1" for r in und_rows) / len(und_rows) if und_rows else float("nan")
                b = s["baselines"]
                print(f"| {kind} | {name} | {pfa:.0%} | {s['flagged']}/{s['scans']} | {s['precision']:.2f} | "
                      f"{s['recall']:.2f} | {und_rec:.2f} ({len(und_rows)} scans) | "
                      f"{b['flag_everything']['precision']:.2f} | {b['random_same_rate']['recall']:.2f} |", flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
