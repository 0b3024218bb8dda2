"""COCO instance segmentation: export and import (polygons and RLE masks).

Polygons export as COCO polygons and mask regions as compressed RLE made by
pycocotools. Extra fields under ``xwb`` (image status, tags, manifest; region
state, source, score, author) make export -> import lossless; other tools
ignore them. Multi-part COCO polygons import as one mask region (the union,
as ``annToMask`` draws it).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycocotools import mask as cocomask

from datasets.errors import XwbError
from datasets.formats.common import (ImportPlan, PlannedImage, check_points, check_real_size, decision,
                                     load_json, need, polygon_area, read_decision)
from datasets.project import Project
from datasets.safefs import atomic_write
from datasets.regions import STATES, Region, rasterize_polygon, tight_mask


# -- export --------------------------------------------------------------------------------------
def region_to_segmentation(r: Region, width: int, height: int):
    if r.polygon is not None:
        return [r.polygon.ravel().tolist()]
    full = np.zeros((height, width), dtype=np.uint8, order="F")
    h, w = r.mask.shape
    full[r.mask_y:r.mask_y + h, r.mask_x:r.mask_x + w] = r.mask
    rle = cocomask.encode(full)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def export_coco(project: Project, out: str | Path, with_proposals: bool = False,
                 with_rejected: bool = False, overwrite: bool = True) -> dict:
    """Write a COCO JSON of the project; returns counts."""
    out = Path(out)
    tax = project.taxonomy
    doc = {
        "info": {"description": f"xwb project {project.name}", "version": "1.0"},
        "licenses": [],
        "categories": [{"id": c.id, "name": c.name, "supercategory": "xray"} for c in tax.classes],
        "images": [],
        "annotations": [],
    }
    ann_id = 0
    state = None if with_proposals else "accepted"  # rejected proposals only with with_rejected
    for im in project.store.images():
        doc["images"].append({
            "id": im.id, "file_name": im.path, "width": im.width, "height": im.height,
            "xwb": {"status": im.status, "comment": im.comment, "tags": im.tags, "manifest": im.manifest,
                    "split": im.split, "sha256": im.sha256},
        })
        for r in project.store.regions(im.id, state=state, include_rejected=with_rejected):
            ann_id += 1
            x0, y0, x1, y1 = r.bbox()
            ann = {"id": ann_id, "image_id": im.id, "category_id": r.class_id,
                   "segmentation": region_to_segmentation(r, im.width, im.height),
                   "area": r.area(), "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0,
                   "xwb": {"state": r.state, "source": r.source, "author": r.author, **decision(r)}}
            if r.score is not None:
                ann["score"] = r.score
            doc["annotations"].append(ann)
    atomic_write(out, json.dumps(doc), overwrite=overwrite)
    return {"images": len(doc["images"]), "annotations": len(doc["annotations"])}


# -- import --------------------------------------------------------------------------------------
def _rle_total(counts: str) -> int:
    """Sum of a compressed COCO RLE string's run lengths, parsed without touching C code.

    pycocotools decodes runs into a buffer of h*w bytes without bounds checks, so
    a malformed string must be rejected before it reaches ``decode``.
    """
    total, i, m, runs = 0, 0, 0, []
    s = counts.encode("ascii")
    while i < len(s):
        x, k, more = 0, 0, True
        while more:
            if i >= len(s):
                raise ValueError("truncated RLE string")
            c = s[i] - 48
            if c < 0 or c > 63:
                raise ValueError("bad character in RLE string")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            i += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if m > 2:
            x += runs[m - 2]
        runs.append(x)
        m += 1
        if x < 0:
            raise ValueError("negative run length")
        total += x
    return total


def _rle_mask(seg: dict, width: int, height: int, where: str) -> np.ndarray:
    size = seg.get("size")
    counts = seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in size)):
        raise XwbError(f"{where}.segmentation.size: must be [height, width]")
    if size != [height, width]:
        raise XwbError(f"{where}.segmentation: RLE size {size} does not match the image ({height}x{width})")
    try:
        if isinstance(counts, list):
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts):
                raise ValueError("counts must be non-negative integers")
            if sum(counts) != height * width:
                raise ValueError(f"runs cover {sum(counts)} pixels, image has {height * width}")
            rle = cocomask.frPyObjects({"size": size, "counts": counts}, height, width)
        elif isinstance(counts, str):
            total = _rle_total(counts)
            if total != height * width:
                raise ValueError(f"runs cover {total} pixels, image has {height * width}")
            rle = {"size": size, "counts": counts.encode("ascii")}
        else:
            raise ValueError("counts must be a string or a list")
        return cocomask.decode(rle).astype(bool)
    except (ValueError, TypeError, UnicodeEncodeError) as e:
        raise XwbError(f"{where}.segmentation: bad RLE ({e})") from None


def _region_from_ann(ann: dict, width: int, height: int, where: str, plan: ImportPlan) -> Region | None:
    seg = ann.get("segmentation")
    extra = ann.get("xwb") if isinstance(ann.get("xwb"), dict) else {}
    state = extra.get("state", "accepted")
    if state not in STATES:
        raise XwbError(f"{where}.xwb.state: must be one of {', '.join(STATES)}")
    score = ann.get("score")
    if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool) or not np.isfinite(score)):
        raise XwbError(f"{where}.score: must be a number")
    meta = dict(state=state, source=str(extra.get("source", "import:coco")), author=str(extra.get("author", "")),
                score=None if score is None else float(score), **read_decision(extra, where))
    if isinstance(seg, list):
        if not seg:
            raise XwbError(f"{where}.segmentation: empty polygon list")
        polys = []
        for k, part in enumerate(seg):
            if not isinstance(part, list) or len(part) % 2:
                raise XwbError(f"{where}.segmentation[{k}]: must be a flat list of x, y numbers")
            if len(part) < 6:
                raise XwbError(f"{where}.segmentation[{k}]: polygon has {len(part) // 2} points; needs at least 3")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in part):
                raise XwbError(f"{where}.segmentation[{k}]: coordinates must be numbers")
            p = check_points(np.asarray(part, dtype=np.float64).reshape(-1, 2), width, height,
                             f"{where}.segmentation[{k}]", plan)
            if polygon_area(p) > 0:
                polys.append(p)
        if not polys:
            plan.skip("zero-area polygons")
            return None
        if len(polys) == 1:
            return Region(0, polygon=polys[0], **meta)
        full = np.zeros((height, width), dtype=bool)
        for p in polys:
            full |= rasterize_polygon(p, width, height)
        if not full.any():
            raise XwbError(f"{where}.segmentation: polygons cover no pixel")
        m, x, y = tight_mask(full)
        return Region(0, mask=m, mask_x=x, mask_y=y, **meta)
    if isinstance(seg, dict):
        full = _rle_mask(seg, width, height, where)
        if not full.any():
            raise XwbError(f"{where}.segmentation: RLE mask is empty")
        m, x, y = tight_mask(full)
        return Region(0, mask=m, mask_x=x, mask_y=y, **meta)
    raise XwbError(f"{where}.segmentation: missing or not a polygon list / RLE")


def plan_coco(project: Project, path: str | Path) -> ImportPlan:
    path = Path(path)
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise XwbError(f"{path}: not a COCO file (top level is not an object)")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise XwbError(f"{path}: '{key}' missing or not a list")
    cats: dict[int, str] = {}
    for i, c in enumerate(doc["categories"]):
        w = f"categories[{i}]"
        cid = need(c, "id", int, w)
        name = need(c, "name", str, w)
        if cid in cats:
            raise XwbError(f"{path}: {w}: duplicate category id {cid}")
        cats[cid] = name
    plan = ImportPlan(path)
    by_id: dict[int, PlannedImage] = {}
    rels: set[str] = set()
    for i, im in enumerate(doc["images"]):
        w = f"images[{i}]"
        iid = need(im, "id", int, w)
        fn = need(im, "file_name", str, w)
        width = need(im, "width", int, w)
        height = need(im, "height", int, w)
        if width <= 0 or height <= 0:
            raise XwbError(f"{path}: {w}: width and height must be positive")
        if iid in by_id:
            raise XwbError(f"{path}: {w}: duplicate image id {iid}")
        rel = project.check_relpath(fn, f"{path}: {w}.file_name")
        if rel in rels:
            raise XwbError(f"{path}: {w}: file_name {fn!r} appears twice")
        rels.add(rel)
        check_real_size(project, rel, width, height, f"{path}: {w}")
        p = PlannedImage(rel, width, height, where=w)
        extra = im.get("xwb")
        if isinstance(extra, dict):
            p.status = extra.get("status")
            p.comment = extra.get("comment")
            for key in ("tags", "manifest"):
                v = extra.get(key)
                if v is not None and not (isinstance(v, list) and all(isinstance(t, str) and t for t in v)):
                    raise XwbError(f"{path}: {w}.xwb.{key}: must be a list of names")
            p.tags, p.manifest = extra.get("tags"), extra.get("manifest")
            if p.comment is not None and not isinstance(p.comment, str):
                raise XwbError(f"{path}: {w}.xwb.comment: must be a string")
        by_id[iid] = p
        plan.images.append(p)
    ann_ids: set[int] = set()
    for i, ann in enumerate(doc["annotations"]):
        w = f"annotations[{i}]"
        aid = need(ann, "id", int, w)
        if aid in ann_ids:
            raise XwbError(f"{path}: {w}: duplicate annotation id {aid}")
        ann_ids.add(aid)
        iid = need(ann, "image_id", int, w)
        cid = need(ann, "category_id", int, w)
        if iid not in by_id:
            raise XwbError(f"{path}: {w}: image_id {iid} is not in 'images'")
        if cid not in cats:
            raise XwbError(f"{path}: {w}: category_id {cid} is not in 'categories'")
        im = by_id[iid]
        try:
            r = _region_from_ann(ann, im.width, im.height, w, plan)
        except XwbError as e:
            raise XwbError(f"{path}: {e}") from None
        if r is not None:
            im.regions.append((cats[cid], r))
    return plan


def import_coco(project: Project, path: str | Path, add_classes: bool = False):
    return plan_coco(project, path).apply(project, add_classes=add_classes)
