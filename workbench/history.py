"""Undo/redo, one history per image, kept while the window is open (free of Qt).

Why not QUndoStack: its push() records a command even when the command's
redo() failed (an exception in a Python override is only printed), and its
undo() moves the index even when the write did not happen, so the screen would
show an edit the store does not hold. Here a command enters the history only
after its write succeeded, and a failed undo or redo leaves the position where
it was; the caller shows the error and reloads from the store.

Per image, because undo must only ever change what the annotator is looking at.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Command(Protocol):
    text: str
    image_id: int

    def redo(self) -> None: ...
    def undo(self) -> None: ...


@dataclass
class _Stack:
    done: list = field(default_factory=list)    # applied, oldest first
    undone: list = field(default_factory=list)  # undone, most recent last


class History:
    def __init__(self, limit: int = 500):
        self.limit = limit
        self._stacks: dict[int, _Stack] = {}

    def _stack(self, image_id: int) -> _Stack:
        return self._stacks.setdefault(image_id, _Stack())

    def push(self, cmd: Command) -> None:
        """Apply ``cmd``; it is recorded only when that worked (exceptions propagate, nothing recorded)."""
        cmd.redo()
        s = self._stack(cmd.image_id)
        s.done.append(cmd)
        s.undone.clear()
        del s.done[:-self.limit]

    def undo(self, image_id: int) -> Command | None:
        s = self._stack(image_id)
        if not s.done:
            return None
        cmd = s.done[-1]
        cmd.undo()           # raises: the command stays where it was
        s.undone.append(s.done.pop())
        return cmd

    def redo(self, image_id: int) -> Command | None:
        s = self._stack(image_id)
        if not s.undone:
            return None
        cmd = s.undone[-1]
        cmd.redo()
        s.done.append(s.undone.pop())
        return cmd

    def can_undo(self, image_id: int | None) -> bool:
        return image_id is not None and bool(self._stack(image_id).done)

    def can_redo(self, image_id: int | None) -> bool:
        return image_id is not None and bool(self._stack(image_id).undone)

    def undo_text(self, image_id: int | None) -> str:
        return self._stack(image_id).done[-1].text if self.can_undo(image_id) else ""

    def redo_text(self, image_id: int | None) -> str:
        return self._stack(image_id).undone[-1].text if self.can_redo(image_id) else ""

    def last(self, image_id: int) -> Command | None:
        s = self._stack(image_id)
        return s.done[-1] if s.done else None

    def clear(self, image_id: int | None = None) -> None:
        if image_id is None:
            self._stacks.clear()
        else:
            self._stacks.pop(image_id, None)
