"""Undoable edits. Each redo/undo writes the store at once; mask strokes keep only the changed rectangle."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from datasets.regions import Region
from workbench.session import Session


class AddRegion(QUndoCommand):
    def __init__(self, s: Session, image_id: int, region: Region, text: str = "add region"):
        super().__init__(text)
        self.s, self.image_id, self.region, self.key = s, image_id, region, None

    def redo(self) -> None:
        self.key = self.s.add(self.image_id, self.region, self.key)

    def undo(self) -> None:
        self.s.delete(self.image_id, self.key)


class DeleteRegion(QUndoCommand):
    def __init__(self, s: Session, image_id: int, region: Region):
        super().__init__("delete region")
        self.s, self.image_id, self.region = s, image_id, region
        self.key = s.key_of(region.id)

    def redo(self) -> None:
        self.s.delete(self.image_id, self.key)

    def undo(self) -> None:
        self.s.add(self.image_id, self.region, self.key)


class ReplaceRegion(QUndoCommand):
    """Class change, move, vertex edit, fill holes, accepting a proposal: before and after of one region."""

    def __init__(self, s: Session, image_id: int, before: Region, after: Region, text: str):
        super().__init__(text)
        self.s, self.image_id, self.before, self.after = s, image_id, before, after
        self.key = s.key_of(before.id)

    def redo(self) -> None:
        self.s.update(self.image_id, self.key, self.after)

    def undo(self) -> None:
        self.s.update(self.image_id, self.key, self.before)


class MaskStroke(QUndoCommand):
    """A brush or eraser stroke: the rectangle it touched, before and after (bool patches)."""

    def __init__(self, s: Session, image_id: int, key: int | None, class_id: int, rect, before: np.ndarray,
                 after: np.ndarray, size: tuple[int, int], text: str):
        super().__init__(text)
        self.s, self.image_id, self.key, self.class_id = s, image_id, key, class_id
        self.rect, self.before, self.after, self.size = rect, before, after, size
        self.created = key is None

    def redo(self) -> None:
        self.key = self.s.patch_mask(self.image_id, self.key, self.class_id, self.rect, self.after, *self.size) \
            or self.key

    def undo(self) -> None:
        self.s.patch_mask(self.image_id, self.key, self.class_id, self.rect, self.before, *self.size)


class ImageField(QUndoCommand):
    def __init__(self, s: Session, image_id: int, field: str, before, after):
        super().__init__(f"set {field}")
        self.s, self.image_id, self.field, self.before, self.after = s, image_id, field, before, after

    def redo(self) -> None:
        self.s.set_image(self.image_id, **{self.field: self.after})

    def undo(self) -> None:
        self.s.set_image(self.image_id, **{self.field: self.before})
