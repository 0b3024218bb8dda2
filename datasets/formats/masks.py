"""Semantic label maps for segmentation users.

``labels/<image>.png``: one palette PNG per image, uint8 class id per pixel
(0 = background, 255 = "don't care", as in Pascal VOC; the palette carries the
taxonomy colours). Overlaps: the smaller region wins. ``--per-class`` also writes ``classes/<class>/<image>.png``
binary masks, which keep overlaps that a single map cannot.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from datasets.formats.common import SPLITS_FILE, card_bytes
from datasets.project import Project
from datasets.regions import IGNORE_LABEL, IGNORE_RGB, label_map, paint
from datasets.safefs import join_inside, staged_export, write_new


def palette(project: Project) -> list[int]:
    pal = [0, 0, 0] * 256
    for c in project.taxonomy.classes:
        pal[3 * c.id:3 * c.id + 3] = list(c.rgb)
    pal[3 * IGNORE_LABEL:3 * IGNORE_LABEL + 3] = list(IGNORE_RGB)
    return pal


def _png(arr: np.ndarray, pal: list[int] | None = None) -> bytes:
    from PIL import Image

    img = Image.fromarray(arr, mode="L" if pal is None else "P")
    if pal is not None:
        img.putpalette(pal)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def export_masks(project: Project, out: str | Path, per_class: bool = False, overwrite: bool = False) -> dict:
    """Label maps (and per-class masks) under OUT; all or nothing (see ``safefs.staged_export``)."""
    pal = palette(project)
    n = 0
    with staged_export(out, overwrite) as tmp:
        for im in project.store.images():
            regs = project.store.regions(im.id, state="accepted")
            stem = im.path.rsplit(".", 1)[0] + ".png"
            write_new(join_inside(tmp, "labels", stem), _png(label_map(regs, im.width, im.height), pal))
            if per_class:
                for c in project.taxonomy.classes:
                    mine = [r for r in regs if r.class_id == c.id and not r.ignore]
                    if not mine:
                        continue
                    m = np.zeros((im.height, im.width), dtype=np.uint8)
                    for r in mine:
                        paint(m, r, 255)
                    write_new(join_inside(tmp, "classes", c.name, stem), _png(m))
            n += 1
        write_new(tmp / "classes.json", json.dumps(
            {"background": 0, **{c.name: c.id for c in project.taxonomy.classes}, "__ignore__": IGNORE_LABEL},
            indent=1).encode())
        write_new(tmp / SPLITS_FILE, card_bytes(project))
    return {"images": n}


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "masks"
EXPORT_OPTIONS = ("per_class", "overwrite")


def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_masks(project, out, **opts)
    return f"wrote label maps of {r['images']} images under {out}"
