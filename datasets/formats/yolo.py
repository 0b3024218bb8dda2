"""YOLO text labels (Ultralytics / X-AnyLabeling): segmentation and detection, import and export.

Written against the published Ultralytics dataset format: one ``.txt`` per image, one object per line,
``class x1 y1 x2 y2 ...`` (segmentation: a polygon) or ``class cx cy w h`` (detection: a box), every
coordinate normalised to 0..1 by the image's width and height; class names in ``data.yaml`` (``names:`` as
a list or an index -> name mapping) or ``classes.txt`` (one per line). Labels live under ``labels/`` with
the image's path below it (``labels/train/a.txt`` for ``images/train/a.png``).

Import looks up each label file's image under the project's image root (``images/<path>.*`` or
``<path>.*``); boxes become rectangles (exported back as boxes while unedited). Export writes ``labels/``
mirroring the image paths, ``data.yaml`` with the class names and ``train.txt``/``val.txt``/``test.txt``
listing the images of each split. A mask region is exported as the outline of each of its parts (YOLO has
no masks and no holes); "don't care" areas are left out (YOLO has no such label) and counted.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from datasets import safeyaml
from datasets.errors import XwbError
from datasets.formats.common import (
    SPLITS_FILE,
    ImportPlan,
    PlannedImage,
    area_polygon,
    card_bytes,
    check_points,
    real_size,
)
from datasets.project import Project
from datasets.regions import Region, shape_polygon
from datasets.safefs import join_inside, staged_export, write_new
from datasets.scanio import SCAN_SUFFIXES

MAX_LINE_VALUES = 200_000  # a polygon of 100,000 vertices is more than any tool writes


# -- export ----------------------------------------------------------------------------------------------
def _norm(points: np.ndarray, width: int, height: int) -> str:
    p = np.asarray(points, np.float64) / [width, height]
    return " ".join(repr(float(v)) for v in p.ravel())


def _outlines(r: Region) -> list[np.ndarray]:
    import cv2

    m = r.mask.astype(np.uint8)
    cs, _ = cv2.findContours(np.pad(m, 1), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # pixel corners, not centres: a contour through pixel (x, y) becomes the square's outline edge
    return [c[:, 0, :].astype(np.float64) - 1 + [r.mask_x + 0.5, r.mask_y + 0.5] for c in cs if len(c) >= 3]


def export_yolo(project: Project, out: str | Path, with_proposals: bool = False, with_rejected: bool = False,
                overwrite: bool = False) -> dict:
    """``labels/<image path>.txt``, ``data.yaml`` and a list of images per split under OUT; all or nothing."""
    tax = project.taxonomy
    index = {c.id: i for i, c in enumerate(tax.classes)}  # YOLO classes are 0..K-1
    state = None if with_proposals else "accepted"
    n_files = n_lines = skipped = 0
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    with staged_export(out, overwrite) as tmp:
        for im in project.store.images():
            lines = []
            for r in project.store.regions(im.id, state=state, include_rejected=with_rejected):
                if r.ignore or r.class_id not in index:
                    skipped += 1
                    continue
                k = index[r.class_id]
                exact = r.exact_shape(im.width, im.height)
                if r.polygon is not None and exact and exact["type"] == "rectangle":
                    (x0, y0), (x1, y1) = np.min(exact["points"], axis=0), np.max(exact["points"], axis=0)
                    c = np.array([[(x0 + x1) / 2, (y0 + y1) / 2], [x1 - x0, y1 - y0]])
                    lines.append(f"{k} {_norm(c, im.width, im.height)}")
                elif r.polygon is not None:
                    lines.append(f"{k} {_norm(r.polygon, im.width, im.height)}")
                else:
                    lines += [f"{k} {_norm(o, im.width, im.height)}" for o in _outlines(r)]
            rel = im.path.rsplit(".", 1)[0] + ".txt"
            write_new(join_inside(tmp, "labels", rel), ("\n".join(lines) + "\n" if lines else "").encode())
            if im.split in splits:
                splits[im.split].append(str(project.image_path(im).resolve()))
            n_files += 1
            n_lines += len(lines)
        names = "\n".join(f"  {i}: {json.dumps(c.name)}" for i, c in enumerate(tax.classes))  # JSON strings are YAML
        data = f"# written by xwb from project {project.name}\npath: .\n"
        for s, files in splits.items():
            write_new(tmp / f"{s}.txt", ("\n".join(files) + "\n" if files else "").encode())
            data += f"{s}: {s}.txt\n"
        write_new(tmp / "data.yaml", (data + f"names:\n{names}\n").encode())
        write_new(tmp / SPLITS_FILE, card_bytes(project))
    return {"files": n_files, "lines": n_lines, "skipped": skipped}


# -- import ----------------------------------------------------------------------------------------------
def _names(folder: Path) -> list[str]:
    y = folder / "data.yaml"
    if y.is_file():
        doc = safeyaml.load_file(y)
        names = doc.get("names") if isinstance(doc, dict) else None
        if isinstance(names, dict):
            try:
                keys = sorted(int(k) for k in names)
            except (TypeError, ValueError):
                raise XwbError(f"{y}: names: keys must be class numbers 0, 1, ...") from None
            if keys != list(range(len(keys))):
                raise XwbError(f"{y}: names: class numbers must run 0..{len(keys) - 1}")
            names = [names[k] if k in names else names[str(k)] for k in keys]
        if not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)):
            raise XwbError(f"{y}: names: must list the class names (a list, or numbers -> names)")
        return names
    t = folder / "classes.txt"
    if t.is_file():
        names = [ln.strip() for ln in t.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        if names:
            return names
    raise XwbError(f"{folder}: no data.yaml or classes.txt naming the classes")


def _image_for(project: Project, rel_label: Path, where: str) -> str:
    """The project-relative image a label file belongs to: ``images/<path>.*`` or ``<path>.*``."""
    stem = rel_label.with_suffix("")
    found = []
    for base in (Path("images") / stem, stem):
        iid_rel = base.as_posix()
        for suf in sorted(SCAN_SUFFIXES):
            cand = f"{iid_rel}{suf}"
            if project.store.image_id_by_path(cand) is not None or project.image_path(cand).is_file():
                found.append(cand)
        if found:
            break
    if not found:
        raise XwbError(f"{where}: no image images/{stem.as_posix()}.* or {stem.as_posix()}.* under "
                       f"{project.image_root}")
    if len(found) > 1:
        raise XwbError(f"{where}: more than one image fits ({', '.join(found)})")
    return found[0]


def plan_yolo(project: Project, path: str | Path) -> ImportPlan:
    folder = Path(path)
    if not folder.is_dir():
        raise XwbError(f"{folder}: a YOLO dataset is a folder (data.yaml or classes.txt, and labels/)")
    names = _names(folder)
    labels = folder / "labels" if (folder / "labels").is_dir() else folder
    lists = {"classes.txt", "train.txt", "val.txt", "test.txt"}  # beside the labels, not labels themselves
    files = sorted(f for f in labels.rglob("*.txt") if not (f.parent == folder and f.name in lists))
    if not files:
        raise XwbError(f"{labels}: no YOLO label files (.txt)")
    plan = ImportPlan(folder)
    for f in files:
        rel_label = f.relative_to(labels)
        rel = _image_for(project, rel_label, str(f))
        width, height = real_size(project, rel, str(f))
        im = PlannedImage(rel, width, height, where=str(rel_label))
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise XwbError(f"{f}: cannot read ({getattr(e, 'strerror', None) or e})") from None
        for n, line in enumerate(text.splitlines(), start=1):
            w = f"{f}: line {n}"
            parts = line.split()
            if not parts:
                continue
            if len(parts) > MAX_LINE_VALUES:
                raise XwbError(f"{w}: {len(parts)} numbers is more than a label line holds")
            try:
                k = int(parts[0])
                vals = np.array([float(v) for v in parts[1:]], np.float64)
            except ValueError:
                raise XwbError(f"{w}: must be a class number and coordinates") from None
            if not 0 <= k < len(names):
                raise XwbError(f"{w}: class {k} is not one of the {len(names)} classes 0..{len(names) - 1}")
            if not np.isfinite(vals).all():
                raise XwbError(f"{w}: coordinates must be finite numbers")
            if len(vals) == 4:  # detection: centre and size
                cx, cy, bw, bh = vals * [width, height, width, height]
                pts = check_points([[cx - bw / 2, cy - bh / 2], [cx + bw / 2, cy + bh / 2]], width, height, w, plan)
                if (pts[0] == pts[1]).any():
                    plan.skip("zero-area boxes")
                    continue
                r = Region(0, polygon=shape_polygon("rectangle", pts, width, height), source="import:yolo",
                           shape={"type": "rectangle", "points": pts.tolist()})
            elif len(vals) >= 6 and len(vals) % 2 == 0:
                pts = check_points(vals.reshape(-1, 2) * [width, height], width, height, w, plan)
                if area_polygon(pts, w, plan) is None:
                    continue
                r = Region(0, polygon=pts, source="import:yolo")
            else:
                raise XwbError(f"{w}: {len(vals)} coordinates: a box has 4, a polygon an even number of at least 6")
            im.regions.append((names[k], r))
        plan.images.append(im)
    return plan


def import_yolo(project: Project, path: str | Path, add_classes: bool = False):
    return plan_yolo(project, path).apply(project, add_classes=add_classes)


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "yolo"
IMPORT_HELP = "YOLO folder (data.yaml or classes.txt, labels/)"
EXPORT_OPTIONS = ("with_proposals", "with_rejected", "overwrite")



def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_yolo(project, out, **opts)
    extra = f"; left out {r['skipped']} don't-care areas (YOLO has no such label)" if r["skipped"] else ""
    return f"wrote {r['files']} YOLO label files ({r['lines']} objects) and data.yaml under {out}{extra}"
