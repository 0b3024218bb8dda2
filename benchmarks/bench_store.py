"""Project store at scale: 100,000 images, 300,000 regions.

Prints: build time, open + list statuses, save of one edited region (with commit),
COCO export of 10,000 images with masks, rasterising regions to label maps.
Run: .venv/bin/python benchmarks/bench_store.py [--images N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

from datasets.formats.coco import export_coco  # noqa: E402
from datasets.project import Project  # noqa: E402
from datasets.regions import Region, label_map  # noqa: E402
from datasets.stores import ImageRecord  # noqa: E402


def build(folder: Path, n_images: int, per_image: int, mask_every: int = 5) -> float:
    rng = np.random.default_rng(0)
    p = Project.create(folder)
    t0 = time.perf_counter()
    chunk = 5000
    for start in range(0, n_images, chunk):
        recs = [ImageRecord(0, f"scans/{i // 1000:03d}/scan_{i:06d}.tiff", 1024, 768, 2, 16, "dual", f"{i:064x}")
                for i in range(start, min(n_images, start + chunk))]
        with p.store.transaction():
            ids = p.store.add_images(recs)
            for k, iid in enumerate(ids):
                regs = []
                for j in range(per_image):
                    cx, cy = rng.uniform(50, 970), rng.uniform(50, 710)
                    if (k + j) % mask_every == 0:
                        m = rng.random((40, 60)) > 0.3
                        regs.append(Region(1 + j % 10, mask=m, mask_x=int(cx) - 30, mask_y=int(cy) - 20))
                    else:
                        ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
                        poly = np.stack([cx + 40 * np.cos(ang), cy + 25 * np.sin(ang)], 1)
                        regs.append(Region(1 + j % 10, polygon=poly))
                p.store.add_regions(iid, regs)
    dt = time.perf_counter() - t0
    p.close()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--coco-images", type=int, default=10_000)
    a = parse(ap, images=200, coco_images=50)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dt = build(tmp / "big", a.images, 3)
        size = (tmp / "big" / "labels.sqlite").stat().st_size
        print(f"build {a.images:,} images + {3 * a.images:,} regions: {dt:.1f} s "
              f"({3 * a.images / dt:,.0f} regions/s), store {size / 2**20:.0f} MiB")

        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            p = Project.open(tmp / "big")
            rows = p.store.image_statuses()
            times.append(time.perf_counter() - t0)
            p.close()
        print(f"open project + list {len(rows):,} image statuses: median {statistics.median(times) * 1000:.0f} ms "
              f"(target < 200 ms)")

        p = Project.open(tmp / "big")
        iid = rows[len(rows) // 2][0]
        regs = p.store.regions(iid)
        saves = []
        for k in range(200):
            r = regs[k % len(regs)]
            if r.polygon is not None:
                r.polygon = r.polygon + 0.25
            else:
                r.mask_x += 1
            t0 = time.perf_counter()
            p.store.update_region(r)
            saves.append(time.perf_counter() - t0)
        saves.sort()
        print(f"save one edited region (commit included): median {saves[100] * 1000:.2f} ms, "
              f"p95 {saves[190] * 1000:.2f} ms (target < 5 ms)")
        if hasattr(p.store, "history"):  # (a store from before the history has none)
            edits = p.store.history(image_id=iid)
            sizes = [len(json.dumps(e.before or {})) + len(json.dumps(e.after or {})) for e in edits]
            print(f"history: {len(edits)} entries for this scan (its creation, its regions', 200 edits), "
                  f"{statistics.mean(sizes):.0f} bytes of state per entry; store now "
                  f"{(tmp / 'big' / 'labels.sqlite').stat().st_size / 2**20:.0f} MiB")
        p.close()

        dt = build(tmp / "coco", a.coco_images, 3, mask_every=2)
        p = Project.open(tmp / "coco")
        t0 = time.perf_counter()
        r = export_coco(p, tmp / "coco.json")
        dt = time.perf_counter() - t0
        print(f"COCO export of {r['images']:,} images, {r['annotations']:,} annotations (half RLE masks): "
              f"{dt:.1f} s ({r['annotations'] / dt:,.0f} annotations/s)")

        regs = [reg for im in p.images()[:300] for reg in p.store.regions(im.id)]
        t0 = time.perf_counter()
        n = 0
        for k in range(0, len(regs), 3):
            label_map(regs[k:k + 3], 1024, 768)
            n += 1024 * 768
        dt = time.perf_counter() - t0
        maps = n // (1024 * 768)
        print(f"rasterise regions into 1024x768 label maps: {len(regs) / dt:,.0f} regions/s, {maps / dt:,.0f} maps/s "
              f"({n / dt / 1e6:,.0f} Mpixel/s of map)")
        p.close()


if __name__ == "__main__":
    main()
