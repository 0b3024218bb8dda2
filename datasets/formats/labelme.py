"""labelme JSON: one file per image, import and export.

Shapes: polygon and rectangle become polygons, circle becomes a 64-gon,
mask becomes a mask region; point, line, linestrip and points make no region
and are skipped with a count. Image flags that are true become image tags.
``imagePath`` is relative to the JSON file, as labelme writes it.
"""
from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.formats.common import (
    SPLITS_FILE,
    ImportPlan,
    PlannedImage,
    area_polygon,
    card_bytes,
    check_points,
    check_real_size,
    decision,
    load_json,
    need,
    read_decision,
    real_size,
)
from datasets.project import Project
from datasets.regions import STATES, Region, corner_pixels, shape_polygon
from datasets.safefs import join_inside, staged_export, write_new

SKIPPED = ("point", "line", "linestrip", "points")  # no area: nothing to segment (see the README)
IGNORE = "__ignore__"  # labelme's label for "don't care" areas


def _png_b64(mask: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").convert("1").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _b64_png(data: str, where: str) -> np.ndarray:
    from PIL import Image

    try:
        raw = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            return np.asarray(img.convert("L")) > 0
    except Exception as e:
        raise XwbError(f"{where}.mask: not a base64 PNG ({type(e).__name__})") from None


# -- export ------------------------------------------------------------------------------------------
def export_labelme(project: Project, out: str | Path, with_proposals: bool = False,
                   with_rejected: bool = False, overwrite: bool = False) -> dict:
    """Write one labelme JSON per image under OUT, mirroring the image paths; all or nothing."""
    with staged_export(out, overwrite) as tmp:
        return _export_labelme(project, Path(out), tmp, with_proposals, with_rejected)


def _shape(r: Region, tax, width: int, height: int) -> dict:
    """One labelme shape for a region: its tool's own shape (rectangle, circle, mask corners with their
    fraction) while the region is still exactly that shape, else the polygon or mask it now is."""
    extra = r.shape or {}
    if r.ignore and r.class_id not in tax.ids:
        label = IGNORE
    else:
        label = tax.by_id(r.class_id).name
    xwb = {"state": r.state, "source": r.source, "author": r.author, **decision(r), "score": r.score}
    if r.ignore and label != IGNORE:
        xwb["ignore"] = True  # a "don't care" area of one class (COCO iscrowd); labelme has no such label
    shape = {"label": label, "group_id": r.group, "description": str(extra.get("description", "")),
             "flags": dict(extra.get("flags") or {}), "xwb": xwb}
    exact = r.exact_shape(width, height)
    if exact and exact["type"] not in ("rectangle", "circle", "mask"):
        exact = None  # a shape labelme has no type for (a CVAT ellipse): its polygon
    if r.polygon is not None:
        if exact:
            shape.update(shape_type=exact["type"], points=exact["points"], mask=None)
        else:
            shape.update(shape_type="polygon", points=r.polygon.tolist(), mask=None)
    else:
        h, w = r.mask.shape
        corners = [[float(r.mask_x), float(r.mask_y)], [float(r.mask_x + w - 1), float(r.mask_y + h - 1)]]  # as labelme
        if exact and corner_pixels(exact["points"]).tolist() == corners:
            corners = exact["points"]
        shape.update(shape_type="mask", points=corners, mask=_png_b64(r.mask))
    return shape


def _export_labelme(project: Project, out: Path, tmp: Path, with_proposals: bool, with_rejected: bool) -> dict:
    tax = project.taxonomy
    n_files = n_shapes = 0
    state = None if with_proposals else "accepted"  # rejected proposals only with with_rejected
    for im in project.store.images():
        rel = im.path.rsplit(".", 1)[0] + ".json"
        jpath = join_inside(out, rel)        # where it will be (imagePath is relative to it)
        staged = join_inside(tmp, rel)
        shapes = [_shape(r, tax, im.width, im.height)
                  for r in project.store.regions(im.id, state=state, include_rejected=with_rejected)]
        doc = {
            "version": "5.5.0",
            "flags": {t: (t in im.tags) for t in tax.tags},
            "shapes": shapes,
            "imagePath": Path(os.path.relpath(project.image_path(im).resolve(),
                                              jpath.parent.resolve())).as_posix(),
            "imageData": None,
            "imageHeight": im.height,
            "imageWidth": im.width,
            "xwb": {"status": im.status, "comment": im.comment, "manifest": im.manifest, "split": im.split},
        }
        write_new(staged, json.dumps(doc, indent=1).encode())
        n_files += 1
        n_shapes += len(shapes)
    write_new(tmp / SPLITS_FILE, card_bytes(project))
    return {"files": n_files, "shapes": n_shapes}


# -- import --------------------------------------------------------------------------------------------
def _extras(s: dict, w: str) -> dict:
    """labelme's per-shape description and flags, kept with the region's shape."""
    out = {}
    d = s.get("description")
    if d:
        if not isinstance(d, str):
            raise XwbError(f"{w}.description: must be a string")
        out["description"] = d
    f = s.get("flags")
    if f:
        if not isinstance(f, dict) or not all(isinstance(v, bool) for v in f.values()):
            raise XwbError(f"{w}.flags: must map names to true/false")
        out["flags"] = f
    return out


def _plan_file(project: Project, path: Path, plan: ImportPlan, rels: set[str]) -> None:
    doc = load_json(path)
    where = str(path)
    if not isinstance(doc, dict):
        raise XwbError(f"{path}: not a labelme file (top level is not an object)")
    ip = need(doc, "imagePath", str, where)
    sized = doc.get("imageWidth") is not None or doc.get("imageHeight") is not None
    if sized:  # labelme 4+ records the size; 3.x files do not, and the image's own header says it
        width = need(doc, "imageWidth", int, where)
        height = need(doc, "imageHeight", int, where)
        if width <= 0 or height <= 0:
            raise XwbError(f"{path}: imageWidth and imageHeight must be positive")
    shapes = need(doc, "shapes", list, where)
    ip_norm = ip.replace("\\", "/")
    if ip_norm.startswith("/") or (len(ip_norm) > 1 and ip_norm[1] == ":"):
        raise XwbError(f"{path}: imagePath {ip!r} is absolute; labelme paths are relative to the JSON file")
    target = (path.parent / ip_norm).resolve()
    root = project.image_root.resolve()
    try:
        rel = target.relative_to(root).as_posix()
    except ValueError:
        raise XwbError(f"{path}: imagePath {ip!r} climbs out of the image root {root}") from None
    if rel in rels:
        raise XwbError(f"{path}: image {rel!r} is already labelled by another file of this import")
    rels.add(rel)
    if sized:
        check_real_size(project, rel, width, height, f"{path}: imagePath")
    else:
        width, height = real_size(project, rel, f"{path}: imagePath")
    im = PlannedImage(rel, width, height, where="imagePath")
    flags = doc.get("flags") or {}
    if not isinstance(flags, dict) or not all(isinstance(v, bool) for v in flags.values()):
        raise XwbError(f"{path}: flags: must map names to true/false")
    im.tags = sorted(k for k, v in flags.items() if v)
    extra = doc.get("xwb")
    if isinstance(extra, dict):
        im.status, im.comment = extra.get("status"), extra.get("comment")
        man = extra.get("manifest")
        if man is not None and not (isinstance(man, list) and all(isinstance(t, str) and t for t in man)):
            raise XwbError(f"{path}: xwb.manifest: must be a list of names")
        im.manifest = man
        if im.comment is not None and not isinstance(im.comment, str):
            raise XwbError(f"{path}: xwb.comment: must be a string")
    groups: dict[tuple[str, int], int] = {}  # labelme: one object = shapes of one label and one group_id
    for i, s in enumerate(shapes):
        w = f"{path}: shapes[{i}]"
        label = need(s, "label", str, w)
        gid = s.get("group_id")
        if gid is not None and (not isinstance(gid, int) or isinstance(gid, bool)):
            raise XwbError(f"{w}.group_id: must be a whole number or null")
        kind = s.get("shape_type") or "polygon"
        if not isinstance(kind, str):
            raise XwbError(f"{w}.shape_type: must be a string")
        if kind in SKIPPED:
            plan.skip(kind)
            continue
        if not label:
            raise XwbError(f"{w}.label: empty")
        pts = check_points(need(s, "points", list, w), width, height, w, plan)
        sx = s.get("xwb") if isinstance(s.get("xwb"), dict) else {}
        state = sx.get("state", "accepted")
        if state not in STATES:
            raise XwbError(f"{w}.xwb.state: must be one of {', '.join(STATES)}")
        score = sx.get("score")
        if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool)):
            raise XwbError(f"{w}.xwb.score: must be a number")
        meta = dict(state=state, source=str(sx.get("source", "import:labelme")), author=str(sx.get("author", "")),
                    score=None if score is None else float(score), **read_decision(sx, w),
                    ignore=label == IGNORE or sx.get("ignore") is True,
                    group=None if gid is None else groups.setdefault((label, gid), len(groups) + 1))
        extras = _extras(s, w)
        keep = kind in ("rectangle", "circle") or (kind == "mask" and (pts != np.floor(pts)).any())
        shape = {"type": kind, "points": pts.tolist(), **extras} if keep else (extras or None)
        if kind == "polygon":
            if area_polygon(pts, w, plan) is None:
                continue
            r = Region(0, polygon=pts, **meta)
        elif kind == "rectangle":
            if len(pts) != 2:
                raise XwbError(f"{w}: rectangle needs 2 points, has {len(pts)}")
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            if x0 == x1 or y0 == y1:
                plan.skip("zero-area rectangles")
                continue
            r = Region(0, polygon=shape_polygon("rectangle", pts, width, height), **meta)
        elif kind == "circle":
            if len(pts) != 2:
                raise XwbError(f"{w}: circle needs 2 points, has {len(pts)}")
            if (pts[0] == pts[1]).all():
                plan.skip("zero-radius circles")
                continue
            r = Region(0, polygon=shape_polygon("circle", pts, width, height), **meta)
        elif kind == "mask":
            if len(pts) != 2:
                raise XwbError(f"{w}: mask needs 2 corner points, has {len(pts)}")
            m = _b64_png(need(s, "mask", str, w), w)
            (x0, y0), (x1, y1) = corner_pixels(pts[:2])
            if m.shape != (y1 - y0 + 1, x1 - x0 + 1):
                raise XwbError(f"{w}.mask: {m.shape[1]}x{m.shape[0]} does not match its corner points")
            if x0 + m.shape[1] > width or y0 + m.shape[0] > height:
                raise XwbError(f"{w}.mask: outside the {width}x{height} image")
            if not m.any():
                raise XwbError(f"{w}.mask: empty")
            r = Region(0, mask=m, mask_x=x0, mask_y=y0, **meta)
        else:
            raise XwbError(f"{w}.shape_type: unknown shape type {kind!r}")
        r.shape = shape
        im.regions.append((None if label == IGNORE else label, r))
    plan.images.append(im)


def plan_labelme(project: Project, path: str | Path) -> ImportPlan:
    path = Path(path)
    if path.is_dir():
        files = sorted(f for f in path.rglob("*.json") if f != path / SPLITS_FILE)
        if not files:
            raise XwbError(f"{path}: no labelme .json files in this folder")
    elif path.is_file():
        files = [path]
    else:
        raise XwbError(f"{path}: no such file or folder")
    plan = ImportPlan(path)
    rels: set[str] = set()
    for f in files:
        _plan_file(project, f, plan, rels)
    return plan


def import_labelme(project: Project, path: str | Path, add_classes: bool = False):
    return plan_labelme(project, path).apply(project, add_classes=add_classes)


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "labelme"
IMPORT_HELP = "labelme JSON file or folder"
EXPORT_OPTIONS = ("with_proposals", "with_rejected", "overwrite")



def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_labelme(project, out, **opts)
    return f"wrote {r['files']} labelme files ({r['shapes']} shapes) under {out}"
