"""``--smoke``: every benchmark's whole path at its smallest size, in seconds, so that ``make test`` runs each
one (tests/test_benchmarks.py) and a benchmark cannot rot unnoticed. Smoke figures mean nothing.

A benchmark declares its smoke sizes once: ``a = parse(ap, scans=4, size="128x160")``. Under ``--smoke``
those become the defaults (an option given on the command line still wins), and every option whose default
is a path (outputs, plots, tables, work folders) moves into a fresh temporary folder, so a smoke run never
writes over ``docs/`` or a benchmark's real work folders.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

PATH_OPTIONS = ("out", "heldout", "plot", "table", "project")
# recipe overrides that make any training a few seconds long (with configs/seg_tiny.yaml)
TINY = ["optim.epochs=1", "data.crops_per_epoch=4", "data.val_max_images=2", "eval.overlays=0"]


def parse(ap: argparse.ArgumentParser, argv: list[str] | None = None, **smoke) -> argparse.Namespace:
    ap.add_argument("--smoke", action="store_true", help="the whole path at the smallest size, in seconds "
                                                         "(figures mean nothing; outputs go to a temporary folder)")
    first, _ = ap.parse_known_args(argv)
    if first.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="xwb-smoke-"))
        moved = {}
        for action in ap._actions:
            if action.dest in PATH_OPTIONS and action.dest not in smoke and (action.default is None
                                                                             or isinstance(action.default, str)):
                moved[action.dest] = str(tmp / (Path(action.default or action.dest).name or action.dest))
        ap.set_defaults(**moved, **smoke)
    return ap.parse_args(argv)
