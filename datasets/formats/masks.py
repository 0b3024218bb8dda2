"""Semantic label maps for segmentation users.

``labels/<image>.png``: one palette PNG per image, uint8 class id per pixel
(0 = background; the palette carries the taxonomy colours). Overlaps: the
smaller region wins. ``--per-class`` also writes ``classes/<class>/<image>.png``
binary masks, which keep overlaps that a single map cannot.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from datasets.project import Project, atomic_write_text
from datasets.regions import label_map, paint


def palette(project: Project) -> list[int]:
    pal = [0, 0, 0] * 256
    for c in project.taxonomy.classes:
        pal[3 * c.id:3 * c.id + 3] = list(c.rgb)
    return pal


def _save_png(path: Path, arr: np.ndarray, pal: list[int] | None = None) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(arr, mode="L" if pal is None else "P")
    if pal is not None:
        img.putpalette(pal)
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, format="PNG")
    tmp.replace(path)


def export_masks(project: Project, out: str | Path, per_class: bool = False) -> dict:
    out = Path(out)
    pal = palette(project)
    n = 0
    for im in project.store.images():
        regs = project.store.regions(im.id, state="accepted")
        stem = im.path.rsplit(".", 1)[0] + ".png"
        _save_png(out / "labels" / stem, label_map(regs, im.width, im.height), pal)
        if per_class:
            for c in project.taxonomy.classes:
                mine = [r for r in regs if r.class_id == c.id]
                if not mine:
                    continue
                m = np.zeros((im.height, im.width), dtype=np.uint8)
                for r in mine:
                    paint(m, r, 255)
                _save_png(out / "classes" / c.name / stem, m)
        n += 1
    atomic_write_text(out / "classes.json", json.dumps(
        {"background": 0, **{c.name: c.id for c in project.taxonomy.classes}}, indent=1))
    return {"images": n}
