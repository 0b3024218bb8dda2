"""The volume workbench on a large CT volume: what a slice step, a new window and opening cost (issue 26).

A 16-bit NIfTI volume (default 800 x 512 x 512 voxels, 400 MB) is added to a project and opened in the real
volume workbench (offscreen Qt, the real Session and store). Printed: seconds to open (the first
projection included), milliseconds per slice step in each view (re-slice, overlay with a few regions,
paint), per new window/level (all three slices and the projection), and the process's memory beside the
file's size: RssAnon (its own: what a copy would cost) and RssFile (pages of the mapped file, shared with
the page cache). Targets: a step under 30 ms, a new window's projection under 50 ms, memory under 1.2x the file.
Run: .venv/bin/python benchmarks/bench_volume_view.py [--size 800x512x512]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from bench_ct import rss_mb  # noqa: E402
from smoke import parse  # noqa: E402


def make_volume(path: Path, shape: tuple[int, int, int]) -> None:
    """A bag-like volume written slab by slab (never whole in memory): air, a shell, a dense block."""
    import nibabel as nib

    z, y, x = shape
    data = np.lib.format.open_memmap(str(path) + ".tmp.npy", mode="w+", dtype=np.uint16, shape=(x, y, z))
    rng = np.random.default_rng(0)
    for k in range(0, z, 64):
        n = min(64, z - k)
        slab = (rng.normal(1024, 20, size=(x, y, n))).astype(np.uint16)
        slab[x // 4:3 * x // 4, y // 4:3 * y // 4] += 1000
        data[:, :, k:k + n] = slab
    img = nib.Nifti1Image(data, np.diag([0.8, 0.8, 1.0, 1.0]))
    img.header.set_slope_inter(1.0, -1024.0)
    nib.save(img, str(path))
    del data
    os.remove(str(path) + ".tmp.npy")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="800x512x512", help="ZxYxX voxels")
    ap.add_argument("--steps", type=int, default=30)
    a = parse(ap, argv, size="48x64x64", steps=3)
    shape = tuple(int(v) for v in a.size.split("x"))
    from PySide6.QtWidgets import QApplication

    from datasets.project import Project
    from datasets.regions import Region
    from workbench.history import History
    from workbench.session import Session
    from workbench.volume.panel import VolumeWorkbench

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="xwb-bench-vol-") as tmp:
        p = Project.create(Path(tmp) / "p")
        (p.folder / "volumes").mkdir()
        f = p.folder / "volumes" / "big.nii"
        t = time.perf_counter()
        make_volume(f, shape)  # type: ignore[arg-type]
        size_mb = f.stat().st_size / 2 ** 20
        print(f"volume {a.size} uint16: {size_mb:.0f} MB written in {time.perf_counter() - t:.1f} s", flush=True)
        p.add_scans([f])
        rec = p.store.images()[0]
        z, y, x = shape
        p.store.add_regions(rec.id, [Region(1, voxels=np.ones((max(1, z // 8), y // 8, x // 8), bool),
                                            mask_x=x // 3, mask_y=y // 3, mask_z=z // 3),
                                     Region(2, box=np.array([x / 4, y / 4, z / 4, x / 2, y / 2, z / 2]))])
        p.close()
        session = Session.open(Path(tmp) / "p", "bench")
        w = VolumeWorkbench(session, History(), session.project.taxonomy)
        w.resize(1400, 900)
        w.show()
        app.processEvents()
        anon0, file0 = rss_mb("RssAnon"), rss_mb("RssFile")
        t = time.perf_counter()
        w.open(session.store.image(rec.id))
        app.processEvents()
        opened = time.perf_counter() - t
        print(f"open (three slices and the first projection): {opened:.2f} s", flush=True)
        for axis in ("z", "y", "x"):
            times = []
            for _ in range(a.steps):
                t = time.perf_counter()
                w.step(axis, 1)
                w.views[axis].repaint()
                times.append((time.perf_counter() - t) * 1000)
            print(f"slice step {axis} ({('axial', 'coronal', 'sagittal')['zyx'.index(axis)]}): median "
                  f"{statistics.median(times):.1f} ms, worst {max(times):.1f} ms", flush=True)
        times = []
        for k in range(max(3, a.steps // 3)):
            t = time.perf_counter()
            w.set_window(-500.0 - 10 * k, 2000.0 + 10 * k)
            for v in (*w.views.values(), w.proj):
                v.repaint()
            times.append((time.perf_counter() - t) * 1000)
        proj = []
        for k in range(max(3, a.steps // 3)):
            assert w.disp is not None
            w.disp.window = (-400.0 - 10 * k, 1500.0 + 10 * k)
            t = time.perf_counter()
            w.render_projection()
            w.proj.repaint()
            proj.append((time.perf_counter() - t) * 1000)
        print(f"new window/level: all views {statistics.median(times):.1f} ms median; the projection alone "
              f"{statistics.median(proj):.1f} ms median (worst {max(proj):.1f})", flush=True)
        anon, filemb = rss_mb("RssAnon") - anon0, rss_mb("RssFile") - file0
        print(f"memory after stepping every view: own (RssAnon) +{anon:.0f} MB = {anon / size_mb:.3f}x the file; "
              f"mapped file pages (RssFile) +{filemb:.0f} MB; together {(anon + filemb) / size_mb:.2f}x the file",
              flush=True)
        w.close()
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
