"""CT volumes: synthetic bag speed, and what opening a large volume costs (time, memory, slices).

1. ``xwb synth --kind ct-baggage`` per bag at three sizes, single energy and dual energy with metal streaks
   (issue 26: a 64³–128³ bag in well under a second).
2. A 16-bit NIfTI volume (default 800 x 512 x 512 voxels, 400 MB) opened through the reader registry: the
   seconds to open, to read an axial, a coronal and a sagittal slice, and the process's resident memory
   growth against the file's size (issue 26: never copied whole; an open volume under 1.2x its file).
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ct.py
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

from datasets.scanio import read_scan  # noqa: E402
from datasets.synth.ct_project import make_bag  # noqa: E402


def rss_mb(kind: str = "RssAnon") -> float:
    """Resident memory of this process: ``RssAnon`` (its own, what a copy would cost) or ``RssFile`` (pages of
    mapped files: shared with the page cache and given back under pressure)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(kind + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bags(sizes: list[tuple[int, int, int]], n: int) -> None:
    print(f"synthetic CT bags, {n} per size (seconds per bag: median / max)")
    for shape in sizes:
        make_bag(0, 0, shape)  # the empty bag of this size is built once and cached
        for label, kw in (("single energy", {}), ("dual energy + metal streaks", {"dual": True, "streaks": True})):
            ts, objs = [], 0
            for i in range(n):
                t = time.perf_counter()
                b = make_bag(1, i, shape, **kw)
                ts.append(time.perf_counter() - t)
                objs += len(b.regions)
            print(f"  {'x'.join(map(str, shape)):>11} {label:<28} {np.median(ts):.3f} / {max(ts):.3f} s "
                  f"({objs / n:.1f} labelled objects per bag)")


def big_volume(shape: tuple[int, int, int], folder: Path) -> None:
    import nibabel as nib

    Z, Y, X = shape
    path = folder / "big.nii"
    raw = np.lib.format.open_memmap(folder / "src.npy", "w+", np.uint16, (X, Y, Z))  # on disk, not in memory
    for z in range(0, Z, 32):
        raw[:, :, z:z + 32] = (np.arange(z, min(Z, z + 32), dtype=np.uint16) * 7)[None, None, :]
    raw.flush()
    img = nib.Nifti1Image(raw, np.diag([0.8, 0.8, 1.0, 1.0]))
    img.header.set_slope_inter(1.0, -1024.0)
    nib.save(img, str(path))
    del img, raw
    (folder / "src.npy").unlink()
    size_mb = path.stat().st_size / 2 ** 20
    base, base_file = rss_mb(), rss_mb("RssFile")
    t = time.perf_counter()
    scan = read_scan(path)
    t_open = time.perf_counter() - t
    times = {}
    for name, sl in (("axial", np.s_[Z // 2]), ("coronal", np.s_[:, Y // 2]), ("sagittal", np.s_[:, :, X // 2])):
        t = time.perf_counter()
        plane = np.array(scan.pixels[sl])
        times[name] = (time.perf_counter() - t) * 1000
        assert plane.size
    grown, mapped = rss_mb() - base, rss_mb("RssFile") - base_file
    print(f"a {Z}x{Y}x{X} 16-bit NIfTI volume ({size_mb:.0f} MB): opened in {t_open * 1000:.1f} ms "
          f"({scan.info.describe()}), memory-mapped: {type(scan.pixels.base).__name__}")
    print("  first read of a slice: " + ", ".join(f"{k} {v:.1f} ms" for k, v in times.items()))
    print(f"  own memory (RssAnon) grew by {grown:.1f} MB = {grown / size_mb:.3f} x the file; mapped file pages "
          f"(RssFile, shared with the page cache) by {mapped:.0f} MB: the sagittal slice touches every page")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bags", type=int, default=10, help="bags per size")
    ap.add_argument("--sizes", default="64x64x64,80x96x128,128x128x128")
    ap.add_argument("--volume", default="800x512x512", help="ZxYxX of the large volume")
    a = parse(ap, bags=2, sizes="48x48x64", volume="64x96x128")
    bags([tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")], a.bags)  # type: ignore[misc]
    with tempfile.TemporaryDirectory() as d:
        big_volume(tuple(int(v) for v in a.volume.split("x")), Path(d))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
