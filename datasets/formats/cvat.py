"""CVAT for images 1.1 XML: import and export (the format teams moving from CVAT bring).

Written against the published specification (docs.cvat.ai, "XML annotation format", version 1.1):
``<image name width height>`` holds ``<box xtl ytl xbr ybr>``, ``<polygon points="x,y;x,y">``,
``<polyline>``, ``<points>``, ``<ellipse cx cy rx ry>``, ``<mask rle left top width height>`` and ``<tag>``;
shapes carry ``label``, ``source``, ``occluded``, ``z_order`` and an optional ``group_id``. A mask's ``rle``
is comma-separated run lengths over its box, row by row, starting with a run of 0s.

Boxes become rectangles (exported back as boxes while unedited), ellipses 64-gons kept as the ellipse,
polygons polygons, masks masks; a ``group_id`` makes several shapes one object; tags become image tags.
Polylines and points have no area and are skipped with a count. Image names are paths under the project's
image root.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.formats.common import ImportPlan, area_polygon, check_points, dataset_card, plan_image
from datasets.project import Project
from datasets.regions import Region, shape_polygon
from datasets.safefs import atomic_write

SKIPPED = ("polyline", "points", "cuboid", "skeleton")
MAX_BYTES = 512 << 20  # an annotation file larger than this is not one CVAT wrote for a project this size


# -- mask run lengths ------------------------------------------------------------------------------------
def mask_to_rle(mask: np.ndarray) -> list[int]:
    """Run lengths of a bool mask, row-major, the first run counting 0s (CVAT's ``rle``)."""
    flat = np.asarray(mask, bool).ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    return [0] + runs if flat.size and flat[0] else runs


def rle_to_mask(text: str, width: int, height: int, where: str) -> np.ndarray:
    try:
        runs = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise XwbError(f"{where}.rle: must be comma-separated whole numbers") from None
    if any(r < 0 for r in runs) or sum(runs) != width * height:
        raise XwbError(f"{where}.rle: runs cover {sum(runs)} pixels, the mask box has {width * height}")
    vals = np.zeros(len(runs), bool)
    vals[1::2] = True
    return np.repeat(vals, runs).reshape(height, width)


# -- export ----------------------------------------------------------------------------------------------
def _xy(v: float) -> str:
    return repr(float(v))  # exact: a round trip gives the same float


def export_cvat(project: Project, out: str | Path, with_proposals: bool = False, with_rejected: bool = False,
                overwrite: bool = False) -> dict:
    """One ``annotations.xml`` (CVAT for images 1.1) for the whole project."""
    out = Path(out)
    if out.is_dir() or not out.suffix:
        out = out / "annotations.xml"
    tax = project.taxonomy
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    meta = ET.SubElement(ET.SubElement(root, "meta"), "task")
    ET.SubElement(meta, "name").text = project.name
    ET.SubElement(meta, "mode").text = "annotation"
    root.insert(1, ET.Comment(f" xwb dataset digest {dataset_card(project)['dataset_digest']} "))
    labels = ET.SubElement(meta, "labels")
    for c in tax.classes:
        lab = ET.SubElement(labels, "label")
        ET.SubElement(lab, "name").text = c.name
        ET.SubElement(lab, "color").text = "#{:02x}{:02x}{:02x}".format(*c.rgb)
        ET.SubElement(lab, "type").text = "any"
    for t in tax.tags:
        lab = ET.SubElement(labels, "label")
        ET.SubElement(lab, "name").text = t
        ET.SubElement(lab, "type").text = "tag"
    state = None if with_proposals else "accepted"
    n_img = n_shapes = skipped = 0
    for im in project.store.images():
        e = ET.SubElement(root, "image", id=str(n_img), name=im.path, subset=im.split or "",
                          width=str(im.width), height=str(im.height))
        n_img += 1
        for t in im.tags:
            ET.SubElement(e, "tag", label=t, source="manual")
        for r in project.store.regions(im.id, state=state, include_rejected=with_rejected):
            if r.class_id not in tax.ids:  # a "don't care" area of no class: CVAT has no such label
                skipped += 1
                continue
            a = {"label": tax.by_id(r.class_id).name, "source": "auto" if r.source.startswith("model:") else "manual",
                 "occluded": "0", "z_order": "0"}
            if r.group is not None:
                a["group_id"] = str(r.group)
            exact = r.exact_shape(im.width, im.height)
            if r.polygon is not None and exact and exact["type"] == "rectangle":
                (x0, y0), (x1, y1) = np.min(exact["points"], axis=0), np.max(exact["points"], axis=0)
                ET.SubElement(e, "box", **a, xtl=_xy(x0), ytl=_xy(y0), xbr=_xy(x1), ybr=_xy(y1))
            elif r.polygon is not None and exact and exact["type"] in ("ellipse", "circle"):
                (cx, cy), (px, py) = exact["points"]  # ellipse: centre, radii; circle: centre, a rim point
                rx, ry = (px, py) if exact["type"] == "ellipse" else (float(np.hypot(px - cx, py - cy)),) * 2
                ET.SubElement(e, "ellipse", **a, cx=_xy(cx), cy=_xy(cy), rx=_xy(rx), ry=_xy(ry))
            elif r.polygon is not None:
                ET.SubElement(e, "polygon", **a, points=";".join(f"{_xy(x)},{_xy(y)}" for x, y in r.polygon))
            else:
                h, w = r.mask.shape
                ET.SubElement(e, "mask", **a, rle=", ".join(map(str, mask_to_rle(r.mask))), left=str(r.mask_x),
                              top=str(r.mask_y), width=str(w), height=str(h))
            n_shapes += 1
    ET.indent(root)
    atomic_write(out, b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8"),
                 overwrite=overwrite)
    return {"file": str(out), "images": n_img, "shapes": n_shapes, "skipped": skipped}


# -- import ----------------------------------------------------------------------------------------------
def _num(e: ET.Element, key: str, where: str) -> float:
    v = e.get(key)
    if v is None:
        raise XwbError(f"{where}: attribute {key!r} missing")
    try:
        f = float(v)
    except ValueError:
        raise XwbError(f"{where}.{key}: {v!r} is not a number") from None
    if not np.isfinite(f):
        raise XwbError(f"{where}.{key}: must be a finite number")
    return f


def _int(e: ET.Element, key: str, where: str) -> int:
    f = _num(e, key, where)
    if f != int(f):
        raise XwbError(f"{where}.{key}: must be a whole number")
    return int(f)


def _parse(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise XwbError(f"{path}: cannot read ({e.strerror})") from None
    if size > MAX_BYTES:
        raise XwbError(f"{path}: {size >> 20} MB is larger than a CVAT annotation file can be ({MAX_BYTES >> 20} MB)")
    data = path.read_bytes()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # entity expansion bombs; CVAT never writes either
        raise XwbError(f"{path}: XML with a DOCTYPE or entities is not a CVAT export; refused")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise XwbError(f"{path}: malformed XML ({e})") from None


def plan_cvat(project: Project, path: str | Path) -> ImportPlan:
    path = Path(path)
    if path.is_dir():
        path = path / "annotations.xml"
    if not path.is_file():
        raise XwbError(f"{path}: no such file")
    root = _parse(path)
    if root.tag != "annotations":
        raise XwbError(f"{path}: not a CVAT for images file (root element <{root.tag}>, expected <annotations>)")
    version = (root.findtext("version") or "").strip()
    if version and not version.startswith("1."):
        raise XwbError(f"{path}: CVAT XML version {version}; xwb reads 1.x")
    tag_labels = {(lab.findtext("name") or "").strip() for lab in root.iter("label")
                  if (lab.findtext("type") or "").strip() == "tag"}
    plan = ImportPlan(path)
    rels: set[str] = set()
    for n, e in enumerate(root.findall("image")):
        where = f"image[{n}]"
        name = e.get("name")
        if not name:
            raise XwbError(f"{path}: {where}: attribute 'name' missing")
        width, height = _int(e, "width", f"{path}: {where}"), _int(e, "height", f"{path}: {where}")
        im = plan_image(project, path, where, name, width, height, rels, key="name")
        tags: list[str] = []
        groups: dict[str, int] = {}
        for k, s in enumerate(e):
            w = f"{path}: {where}.{s.tag}[{k}]"
            label = s.get("label")
            if s.tag in ("tag",):
                if label:
                    tags.append(label)
                continue
            if s.tag in SKIPPED:
                plan.skip(s.tag + "s" if not s.tag.endswith("s") else s.tag)
                continue
            if not label:
                raise XwbError(f"{w}: attribute 'label' missing")
            if label in tag_labels:
                raise XwbError(f"{w}: label {label!r} is a tag label, not a shape label")
            gid = s.get("group_id")
            meta = dict(source="import:cvat" if s.get("source", "manual") != "auto" else "import:cvat:auto",
                        group=None if gid in (None, "", "0") else groups.setdefault(gid, len(groups) + 1))
            if s.tag == "box":
                pts = check_points([[_num(s, "xtl", w), _num(s, "ytl", w)], [_num(s, "xbr", w), _num(s, "ybr", w)]],
                                   width, height, w, plan)
                if (pts[0] == pts[1]).any():
                    plan.skip("zero-area boxes")
                    continue
                r = Region(0, polygon=shape_polygon("rectangle", pts, width, height),
                           shape={"type": "rectangle", "points": pts.tolist()}, **meta)
            elif s.tag == "polygon":
                try:
                    raw = [[float(v) for v in p.split(",")] for p in (s.get("points") or "").split(";") if p]
                except ValueError:
                    raise XwbError(f"{w}.points: must be x,y pairs separated by ';'") from None
                pts = check_points(raw, width, height, w, plan)
                if area_polygon(pts, w, plan) is None:
                    continue
                r = Region(0, polygon=pts, **meta)
            elif s.tag == "ellipse":
                cx, cy, rx, ry = (_num(s, k, w) for k in ("cx", "cy", "rx", "ry"))
                if float(s.get("rotation", 0) or 0) != 0:
                    raise XwbError(f"{w}: rotated ellipses are not supported; draw a polygon")
                if rx <= 0 or ry <= 0:
                    plan.skip("zero-area ellipses")
                    continue
                check_points([[cx, cy]], width, height, w, plan)
                pts = np.array([[cx, cy], [rx, ry]])
                r = Region(0, polygon=shape_polygon("ellipse", pts, width, height),
                           shape={"type": "ellipse", "points": pts.tolist()}, **meta)
            elif s.tag == "mask":
                left, top = _int(s, "left", w), _int(s, "top", w)
                mw, mh = _int(s, "width", w), _int(s, "height", w)
                if left < 0 or top < 0 or mw <= 0 or mh <= 0 or left + mw > width or top + mh > height:
                    raise XwbError(f"{w}: mask box {mw}x{mh} at ({left}, {top}) is outside the {width}x{height} image")
                m = rle_to_mask(s.get("rle") or "", mw, mh, w)
                if not m.any():
                    raise XwbError(f"{w}: empty mask")
                r = Region(0, mask=m, mask_x=left, mask_y=top, **meta)
            else:
                plan.skip(f"<{s.tag}> elements")
                continue
            im.regions.append((label, r))
        im.tags = sorted(set(tags)) if tags else None
        plan.images.append(im)
    return plan


def import_cvat(project: Project, path: str | Path, add_classes: bool = False):
    return plan_cvat(project, path).apply(project, add_classes=add_classes)


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "cvat"
IMPORT_HELP = "CVAT for images XML (or its folder)"
EXPORT_OPTIONS = ("with_proposals", "with_rejected", "overwrite")



def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_cvat(project, out, **opts)
    extra = f"; left out {r['skipped']} don't-care areas of no class" if r["skipped"] else ""
    return f"wrote {r['file']}: {r['images']} images, {r['shapes']} shapes{extra}"
