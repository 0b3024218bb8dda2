"""What checking that a scan decodes costs when it is added (issue 12).

``xwb add`` used to read headers only, so a truncated PNG/JPEG/DICOM got in and failed later in training or
prediction. Now every file is decoded once when added (an uncompressed TIFF is memory-mapped and its length
checked against its header instead). Per format and size this prints the milliseconds per scan of the old
header read, of the new check, and of the SHA-256 that ``add`` computed anyway, and the ratio of the whole
add (check + hash) to the old one (header + hash). Both paths run in the same process on the same files.

Run: .venv/bin/python benchmarks/bench_add_verify.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoke import parse  # noqa: E402

from datasets.scanio import file_sha256, scan_info, verify_scan, write_tiff  # noqa: E402


def _dicom(path: Path, a: np.ndarray) -> None:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.501.2.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.Rows, ds.Columns = a.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = a.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def make_files(folder: Path, h: int, w: int) -> dict[str, Path]:
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    a = (30000 + 20000 * np.sin(xx / 37.0) * np.cos(yy / 23.0) + rng.normal(0, 500, (h, w))).clip(0, 65535)
    a = a.astype(np.uint16)
    files = {}
    files["png16"] = folder / f"s{h}x{w}.png"
    cv2.imwrite(str(files["png16"]), a)
    files["jpeg8"] = folder / f"s{h}x{w}.jpg"
    cv2.imwrite(str(files["jpeg8"]), (a >> 8).astype(np.uint8))
    files["tiff_raw"] = folder / f"s{h}x{w}.tif"
    write_tiff(files["tiff_raw"], np.stack([a, a // 2], -1))
    files["tiff_zlib"] = folder / f"z{h}x{w}.tif"
    write_tiff(files["tiff_zlib"], np.stack([a, a // 2], -1), compress=True)
    files["dicom"] = folder / f"s{h}x{w}.dcm"
    _dicom(files["dicom"], a)
    return files


def ms(fn, f: Path, repeat: int) -> float:
    fn(f)  # warm the page cache: both paths read the same cached file
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(f)
        t.append(time.perf_counter() - t0)
    return 1000 * statistics.median(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="768x1024,2048x2048,2048x8192")
    a = parse(ap, repeat=1, sizes="64x96")
    print(f"{'format':10s} {'size':>11s} {'MB':>6s} {'header':>8s} {'decode':>8s} {'sha256':>8s}  add now/before")
    with tempfile.TemporaryDirectory() as tmp:
        for h, w in ((int(v) for v in s.split("x")) for s in a.sizes.split(",")):
            for name, f in make_files(Path(tmp), h, w).items():
                hd, dc, sh = (ms(scan_info, f, a.repeat), ms(verify_scan, f, a.repeat), ms(file_sha256, f, a.repeat))
                print(f"{name:10s} {h:>5d}x{w:<5d} {f.stat().st_size / 1e6:6.1f} {hd:8.1f} {dc:8.1f} {sh:8.1f}"
                      f"  {(dc + sh) / (hd + sh):5.2f}x")


if __name__ == "__main__":
    main()
