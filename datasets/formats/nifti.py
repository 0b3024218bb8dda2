"""Volume labels for 3-D users (MONAI, nnU-Net, 3D Slicer, ITK-SNAP): one NIfTI label volume per volume.

``labels/<volume>.nii.gz``: uint8 class id per voxel (0 = background, 255 = "don't care"), in NIfTI's
(x, y, z) order with the volume's voxel size in the affine, so it lies on the scan in any viewer; where voxel
regions overlap the smaller one wins, as in 2-D label maps. 3-D boxes do not fit a label volume: they go to
``boxes3d.json`` (per volume: class, ``[x0, y0, z0, x1, y1, z1]`` in voxels with the far corner exclusive,
state, source, score), beside ``classes.json`` and ``splits.json``. 2-D scans of a mixed project are left out
(and counted): their labels export as masks, coco, cvat, labelme or yolo.
"""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.formats.common import SPLITS_FILE, card_bytes
from datasets.project import Project
from datasets.regions import IGNORE_LABEL, Region
from datasets.safefs import join_inside, staged_export, write_new
from datasets.scanio import scan_info


def label_volume(regions: list[Region], depth: int, height: int, width: int) -> np.ndarray:
    """(depth, height, width) uint8 class ids of the voxel regions; smaller regions are painted last."""
    from datasets.voxel_edit import paint_volume

    out = np.zeros((depth, height, width), np.uint8)
    for r in sorted((r for r in regions if r.voxels is not None), key=lambda r: -r.area()):
        paint_volume(out, r, IGNORE_LABEL if r.ignore else r.class_id)
    return out


def _nifti_bytes(labels: np.ndarray, spacing: tuple[float, ...] | None) -> bytes:
    import nibabel as nib

    sz, sy, sx = spacing[-3:] if spacing and len(spacing) >= 3 else (1.0, 1.0, 1.0)
    img = nib.Nifti1Image(np.ascontiguousarray(labels.transpose(2, 1, 0)), np.diag([sx, sy, sz, 1.0]))
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = b"xwb label volume"
    raw = io.BytesIO()
    file_map = nib.Nifti1Image.make_file_map({"image": raw, "header": raw})
    img.to_file_map(file_map)
    return gzip.compress(raw.getvalue(), 6, mtime=0)  # mtime 0: the same labels give the same bytes


def _box(r: Region, tax) -> dict:
    return {"class": tax.by_id(r.class_id).name if r.class_id in tax.ids else r.class_id,
            "box": [round(v, 4) for v in r.bbox3d()], "state": r.state, "source": r.source, "score": r.score,
            **({"ignore": True} if r.ignore else {})}


def export_nifti(project: Project, out: str | Path, overwrite: bool = False) -> dict:
    """Label volumes and 3-D boxes of every volume under OUT; all or nothing (``safefs.staged_export``)."""
    vols = [im for im in project.store.images() if im.is_volume]
    if not vols:
        raise XwbError(f"export nifti: {project.name} holds no volumes; 2-D labels export as masks, coco, cvat, "
                       "labelme or yolo")
    left_out = len(project.store.images(with_sets=False)) - len(vols)
    boxes: dict[str, list[dict]] = {}
    with staged_export(out, overwrite) as tmp:
        for im in vols:
            regs = project.store.regions(im.id, state="accepted")
            spacing = scan_info(project.image_path(im), axes=im.axes or None).spacing
            stem = im.path.removesuffix(".gz").rsplit(".", 1)[0] + ".nii.gz"
            write_new(join_inside(tmp, "labels", stem),
                      _nifti_bytes(label_volume(regs, im.depth, im.height, im.width), spacing))
            boxes[im.path] = [_box(r, project.taxonomy) for r in regs if r.box is not None]
        write_new(tmp / "boxes3d.json", json.dumps(boxes, indent=1).encode())
        write_new(tmp / "classes.json", json.dumps(
            {"background": 0, **{c.name: c.id for c in project.taxonomy.classes}, "__ignore__": IGNORE_LABEL},
            indent=1).encode())
        write_new(tmp / SPLITS_FILE, card_bytes(project))
    return {"volumes": len(vols), "boxes": sum(map(len, boxes.values())), "left_out": left_out}


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "nifti"
VOLUMES = True
EXPORT_OPTIONS = ("overwrite",)


def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_nifti(project, out, **opts)
    rest = f"; {r['left_out']} 2-D scans left out (export them as masks, coco, ...)" if r["left_out"] else ""
    return f"wrote label volumes of {r['volumes']} volumes and {r['boxes']} 3-D boxes under {out}{rest}"
