"""COCO instance segmentation: export and import (polygons and RLE masks).

Polygons export as COCO polygons and mask regions as compressed RLE made by
pycocotools. Extra fields under ``xwb`` (image status, tags, manifest; region
state, source, score, author, the drawing tool's shape) make export -> import
lossless; other tools ignore them. A multi-part annotation imports as one
group of polygons (one object in several parts) and a group exports as one
annotation; ``iscrowd`` 1 marks a "don't care" area both ways.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycocotools import mask as cocomask

from datasets.errors import XwbError
from datasets.formats.common import (
    ImportPlan,
    PlannedImage,
    check_points,
    dataset_card,
    decision,
    load_json,
    need,
    plan_image,
    polygon_area,
    read_decision,
)
from datasets.project import Project
from datasets.regions import STATES, Region, paint, tight_mask
from datasets.safefs import atomic_write

IGNORE = "__ignore__"  # the category of "don't care" areas that belong to no class (labelme's label)
IGNORE_ID = 0


# -- export --------------------------------------------------------------------------------------
def region_to_segmentation(r: Region, width: int, height: int):
    if r.polygon is not None:
        return [r.polygon.ravel().tolist()]
    full = np.zeros((height, width), dtype=np.uint8, order="F")
    h, w = r.mask.shape
    full[r.mask_y:r.mask_y + h, r.mask_x:r.mask_x + w] = r.mask
    rle = cocomask.encode(full)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def _instances(regions: list[Region]) -> list[list[Region]]:
    """COCO annotations are objects: the parts of one group (same class, state and care) make one."""
    out: list[list[Region]] = []
    by_key: dict[tuple, list[Region]] = {}
    for r in regions:
        if r.group is None:
            out.append([r])
            continue
        key = (r.group, r.class_id, r.state, r.ignore)
        if key not in by_key:
            by_key[key] = []
            out.append(by_key[key])
        by_key[key].append(r)
    return out


def _shape_of(r: Region, width: int, height: int) -> dict | None:
    """The tool's shape while the region is still exactly it, else only its notes (description, flags)."""
    extras = {k: v for k, v in (r.shape or {}).items() if k not in ("type", "points")}
    return r.exact_shape(width, height) or extras or None


def _annotation(parts: list[Region], width: int, height: int) -> dict:
    r = parts[0]
    if len(parts) == 1:
        seg, area, (x0, y0, x1, y1) = region_to_segmentation(r, width, height), r.area(), r.bbox()
    elif all(p.polygon is not None for p in parts):
        seg = [p.polygon.ravel().tolist() for p in parts]
        area = sum(p.area() for p in parts)
        boxes = np.array([p.bbox() for p in parts])
        x0, y0, x1, y1 = boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
    else:  # parts of mixed kinds: their union as one RLE for everyone, the parts themselves for xwb
        full = np.zeros((height, width), dtype=bool)
        for p in parts:
            paint(full, p, True)
        m, mx, my = tight_mask(full)
        u = Region(r.class_id, mask=m, mask_x=mx, mask_y=my)
        seg, area, (x0, y0, x1, y1) = region_to_segmentation(u, width, height), u.area(), u.bbox()
    xwb = {"state": r.state, "source": r.source, "author": r.author, **decision(r)}
    if len(parts) == 1:
        sh = _shape_of(r, width, height)
        if sh:
            xwb["shape"] = sh
    elif isinstance(seg, list):  # one object in polygon parts: each part's own shape, in the order of the parts
        shapes = [_shape_of(p, width, height) for p in parts]
        if any(shapes):
            xwb["part_shapes"] = shapes
    else:
        xwb["parts"] = [{"segmentation": region_to_segmentation(p, width, height), "shape": _shape_of(p, width, height)}
                        for p in parts]
    if len(parts) == 1 and r.group is not None:
        xwb["grouped"] = True  # a group of one part (labelme allows it): kept a group on import
    ann = {"image_id": None, "category_id": r.class_id, "segmentation": seg, "area": float(area),
           "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "iscrowd": int(r.ignore), "xwb": xwb}
    if r.score is not None:
        ann["score"] = r.score
    return ann


def export_coco(project: Project, out: str | Path, with_proposals: bool = False,
                 with_rejected: bool = False, overwrite: bool = True) -> dict:
    """Write a COCO JSON of the project; returns counts."""
    out = Path(out)
    tax = project.taxonomy
    card = dataset_card(project)
    doc = {
        "info": {"description": f"xwb project {project.name}", "version": card["dataset_digest"][:12],
                 "xwb": {"dataset_digest": card["dataset_digest"]}},
        "licenses": [],
        "categories": [{"id": c.id, "name": c.name, "supercategory": "xray"} for c in tax.classes],
        "images": [],
        "annotations": [],
    }
    ann_id = 0
    classless = False
    state = None if with_proposals else "accepted"  # rejected proposals only with with_rejected
    for im in project.store.images():
        doc["images"].append({
            "id": im.id, "file_name": im.path, "width": im.width, "height": im.height,
            "xwb": {"status": im.status, "comment": im.comment, "tags": im.tags, "manifest": im.manifest,
                    "split": im.split, "sha256": im.sha256},
        })
        for parts in _instances(project.store.regions(im.id, state=state, include_rejected=with_rejected)):
            ann_id += 1
            ann = {"id": ann_id, **_annotation(parts, im.width, im.height)}
            ann["image_id"] = im.id
            if ann["category_id"] not in tax.ids:  # a "don't care" area of no class (labelme __ignore__)
                ann["category_id"], classless = IGNORE_ID, True
            doc["annotations"].append(ann)
    if classless:
        doc["categories"].append({"id": IGNORE_ID, "name": IGNORE, "supercategory": "ignore"})
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


def _shape_extra(extra: dict, where: str) -> dict | None:
    sh = extra.get("shape")
    if sh is None:
        return None
    if not isinstance(sh, dict) or ("type" in sh and not (isinstance(sh["type"], str) and
                                                           isinstance(sh.get("points"), list))):
        raise XwbError(f"{where}.xwb.shape: must be an object (a type comes with its points)")
    return sh


def _regions_from_ann(ann: dict, width: int, height: int, where: str, plan: ImportPlan,
                      next_group) -> list[Region]:
    """The regions of one annotation: one polygon or mask, or one polygon per part of a multi-part
    annotation, sharing a group (one object in several parts). ``iscrowd`` 1 marks a "don't care" area."""
    seg = ann.get("segmentation")
    extra = ann.get("xwb") if isinstance(ann.get("xwb"), dict) else {}
    state = extra.get("state", "accepted")
    if state not in STATES:
        raise XwbError(f"{where}.xwb.state: must be one of {', '.join(STATES)}")
    score = ann.get("score")
    if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool) or not np.isfinite(score)):
        raise XwbError(f"{where}.score: must be a number")
    crowd = ann.get("iscrowd", 0)
    if crowd not in (0, 1):
        raise XwbError(f"{where}.iscrowd: must be 0 or 1")
    meta = dict(state=state, source=str(extra.get("source", "import:coco")), author=str(extra.get("author", "")),
                score=None if score is None else float(score), **read_decision(extra, where), ignore=crowd == 1)
    shape = _shape_extra(extra, where)
    parts = extra.get("parts")
    if parts is not None:  # xwb's own record of a group of mixed kinds (the segmentation is their union)
        if not isinstance(parts, list) or not parts or not all(isinstance(q, dict) for q in parts):
            raise XwbError(f"{where}.xwb.parts: must be a list of parts")
        g, out = next_group(), []
        inner = {k: v for k, v in extra.items() if k not in ("parts", "part_shapes", "grouped", "shape")}
        for k, q in enumerate(parts):
            sub = {"segmentation": q.get("segmentation"), "iscrowd": crowd, "score": score,
                   "xwb": {**inner, "shape": q.get("shape")}}
            for r in _regions_from_ann(sub, width, height, f"{where}.xwb.parts[{k}]", plan, next_group):
                r.group = g
                out.append(r)
        return out
    if isinstance(seg, list):
        if not seg:
            raise XwbError(f"{where}.segmentation: empty polygon list")
        part_shapes = extra.get("part_shapes")
        if part_shapes is not None and not (isinstance(part_shapes, list) and len(part_shapes) == len(seg)):
            raise XwbError(f"{where}.xwb.part_shapes: must list one shape (or null) per polygon")
        polys, shapes = [], []
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
                shapes.append(_shape_extra({"shape": part_shapes[k]}, f"{where}.xwb.part_shapes[{k}]")
                              if part_shapes else None)
            else:
                plan.skip("zero-area polygons")
        if not polys:
            return []
        if len(polys) == 1:
            return [Region(0, polygon=polys[0], shape=shape, group=next_group() if extra.get("grouped") else None,
                           **meta)]
        g = next_group()
        return [Region(0, polygon=p, group=g, shape=sh, **meta) for p, sh in zip(polys, shapes)]
    if isinstance(seg, dict):
        full = _rle_mask(seg, width, height, where)
        if not full.any():
            raise XwbError(f"{where}.segmentation: RLE mask is empty")
        m, x, y = tight_mask(full)
        return [Region(0, mask=m, mask_x=x, mask_y=y, shape=shape, group=next_group() if extra.get("grouped") else None,
                       **meta)]
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
        p = plan_image(project, path, w, fn, width, height, rels)
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
            regs = _regions_from_ann(ann, im.width, im.height, w, plan, lambda im=im: _new_group(im))
        except XwbError as e:
            raise XwbError(f"{path}: {e}") from None
        name = None if cats[cid] == IGNORE else cats[cid]
        if name is None:
            for r in regs:
                r.ignore = True
        im.regions += [(name, r) for r in regs]
    return plan


def _new_group(im: PlannedImage) -> int:
    return 1 + max((r.group or 0 for _, r in im.regions), default=0)


def import_coco(project: Project, path: str | Path, add_classes: bool = False):
    return plan_coco(project, path).apply(project, add_classes=add_classes)


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "coco"
IMPORT_HELP = "COCO JSON"
EXPORT_OPTIONS = ("with_proposals", "with_rejected", "overwrite")



def run_export(project: Project, out: str | Path, **opts) -> str:
    out = Path(out)
    if out.is_symlink():
        raise XwbError(f"{out}: is a symbolic link; refusing to export through it")
    if out.is_dir() or not out.suffix:
        out = out / "annotations.json"
    r = export_coco(project, out, **opts)
    return f"wrote {out}: {r['images']} images, {r['annotations']} annotations"
