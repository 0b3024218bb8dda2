"""WAL size under sustained concurrent reading (issue 13.11).

One writer process commits small edits as fast as it can while reader processes
query the store without pause (as workbench windows, `xwb info` loops and
training data loaders do). Without a bound, readers that always hold some
snapshot keep SQLite's automatic checkpoints from ever restarting the WAL, and
the WAL grows without limit. Prints the database size, the largest and the
final WAL size, and the writes and reads per second.

Run: .venv/bin/python benchmarks/bench_wal.py [--seconds 30] [--readers 4]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

from datasets.project import Project  # noqa: E402
from datasets.regions import Region  # noqa: E402
from datasets.stores import ImageRecord  # noqa: E402


def writer(folder: str, until: float, out) -> None:
    p = Project.open(folder)
    rng = np.random.default_rng(1)
    ids = [r.id for r in p.images()]
    n = 0
    while time.time() < until:
        m = rng.random((64, 64)) > 0.3
        p.store.add_region(int(rng.choice(ids)), Region(1 + n % 5, mask=m, mask_x=10, mask_y=10))
        n += 1
    out.put(("writes", n))
    p.close()


def reader(folder: str, until: float, out) -> None:
    p = Project.open(folder, readonly=True)
    n = 0
    while time.time() < until:
        with p.store.snapshot():  # a read transaction spanning a few queries, as the workbench's refresh does
            p.store.region_counts()
            p.store.images(with_sets=False)
        n += 1
    out.put(("reads", n))
    p.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--readers", type=int, default=4)
    a = parse(ap, seconds=1.0, readers=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "p"
        p = Project.create(folder)
        p.store.add_images([ImageRecord(0, f"s/{i}.tiff", 512, 512, 1, 16, "gray", f"{i:064x}") for i in range(500)])
        p.close()
        until = time.time() + a.seconds
        q = mp.Queue()
        procs = [mp.Process(target=writer, args=(str(folder), until, q))] + \
                [mp.Process(target=reader, args=(str(folder), until, q)) for _ in range(a.readers)]
        for pr in procs:
            pr.start()
        wal = folder / "labels.sqlite-wal"
        biggest = 0
        while any(pr.is_alive() for pr in procs):
            try:
                biggest = max(biggest, wal.stat().st_size)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        counts = {}
        while not q.empty():
            k, v = q.get()
            counts[k] = counts.get(k, 0) + v
        db = (folder / "labels.sqlite").stat().st_size
        final = wal.stat().st_size if wal.exists() else 0
        print(f"{a.seconds:.0f} s, 1 writer + {a.readers} readers: {counts.get('writes', 0) / a.seconds:,.0f} commits/s, "
              f"{counts.get('reads', 0) / a.seconds:,.0f} read transactions/s")
        print(f"database {db / 1e6:.1f} MB; WAL largest {biggest / 1e6:.1f} MB, at the end {final / 1e6:.1f} MB "
              f"(limit {os.environ.get('XWB_WAL_LIMIT_MB', '64')} MB)")


if __name__ == "__main__":
    main()
