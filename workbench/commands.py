"""Undoable edits. Each redo/undo writes the store at once and restores regions exactly.

A command keeps full snapshots (geometry, class, state, source, author, score,
decision) of what it changes, so undo gives back a region's provenance too, not
only its pixels. Mask strokes keep only the rectangle they touched.
"""
from __future__ import annotations

import numpy as np

from datasets.regions import Region
from workbench.session import Session, meta_of


class AddRegion:
    def __init__(self, s: Session, image_id: int, region: Region, text: str = "add region"):
        self.s, self.image_id, self.region, self.text = s, image_id, region.copy(id=None), text

    @property
    def region_id(self) -> int | None:
        return self.region.id

    def redo(self) -> None:
        self.region.id = self.s.add(self.image_id, self.region)  # the first redo assigns the id; later ones keep it

    def undo(self) -> None:
        self.s.delete(self.image_id, self.region.id)


class DeleteRegion:
    def __init__(self, s: Session, image_id: int, region: Region, text: str = "delete region"):
        self.s, self.image_id, self.region, self.text = s, image_id, region.copy(), text

    def redo(self) -> None:
        self.s.delete(self.image_id, self.region.id)

    def undo(self) -> None:
        self.s.add(self.image_id, self.region)


class ReplaceRegion:
    """Class change, move, vertex edit, fill holes, accepting or rejecting a proposal: one region before/after."""

    def __init__(self, s: Session, image_id: int, before: Region, after: Region, text: str):
        self.s, self.image_id, self.before, self.after, self.text = s, image_id, before.copy(), after.copy(), text

    @property
    def region_id(self) -> int | None:
        return self.before.id

    def redo(self) -> None:
        self.s.write(self.image_id, self.after)

    def undo(self) -> None:
        self.s.write(self.image_id, self.before)


class MaskStroke:
    """A brush or eraser stroke on one mask region: the rectangle it touched before and after (bool
    patches) and the region's attributes before (None: the stroke created it) and after."""

    def __init__(self, s: Session, image_id: int, rect, before: np.ndarray, after: np.ndarray,
                 size: tuple[int, int], before_meta: dict | None, after_meta: dict, text: str):
        self.s, self.image_id, self.rect, self.size, self.text = s, image_id, rect, size, text
        self.before, self.after = before, after
        self.before_meta, self.after_meta = before_meta, dict(after_meta)

    @property
    def region_id(self) -> int | None:
        return self.after_meta.get("id")

    def redo(self) -> None:
        rid = self.s.patch_mask(self.image_id, self.rect, self.after, self.after_meta, self.size)
        if rid is not None:
            self.after_meta["id"] = rid

    def undo(self) -> None:
        if self.before_meta is None:  # the stroke made the region: undo removes it
            self.s.delete(self.image_id, self.after_meta["id"])
        else:
            self.s.patch_mask(self.image_id, self.rect, self.before, self.before_meta, self.size)


class ImageField:
    def __init__(self, s: Session, image_id: int, field: str, before, after):
        self.s, self.image_id, self.field, self.before, self.after = s, image_id, field, before, after
        self.text = f"set {field}"

    def redo(self) -> None:
        self.s.set_image(self.image_id, **{self.field: self.after})

    def undo(self) -> None:
        self.s.set_image(self.image_id, **{self.field: self.before})


class Batch:
    """Several commands of one image as one step, in one transaction: all land or none does."""

    def __init__(self, s: Session, image_id: int, commands: list, text: str):
        self.s, self.image_id, self.commands, self.text = s, image_id, commands, text

    def redo(self) -> None:
        with self.s.atomic():
            for c in self.commands:
                c.redo()

    def undo(self) -> None:
        with self.s.atomic():
            for c in reversed(self.commands):
                c.undo()


def stroke_meta(region: Region | None, s: Session, class_id: int) -> tuple[dict | None, dict]:
    """Attributes of a mask region before and after a stroke by this annotator."""
    if region is None:
        return None, {"id": None, "class_id": class_id, "state": "accepted", "source": "manual",
                      "author": s.author, "score": None, "decided_by": "", "decided_at": None}
    before = meta_of(region)
    return before, {**before, "author": s.author}
