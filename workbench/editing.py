"""Editing the image in view: every change an undoable command, applied only once the store holds it.

The trust rules of the workbench live here (the main window holds one ``Editing``):
- an edit is pushed through ``push``: it enters the image's history only after its store write
  succeeded; a failure is shown in the alert bar and the view is reloaded from the store, so the screen
  never shows an edit the store does not hold; a failed undo or redo stays where it was;
- undo and redo act on the image in view only (one history per image);
- typed image fields reach the store before another field, Ctrl+D or navigation touches the image;
- a proposal is never deleted: Del rejects it (kept as the model's false alarm), and Ctrl+D on a scan with
  unreviewed proposals asks first.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from datasets.errors import XwbError
from datasets.regions import Region
from workbench.commands import Batch, DeleteRegion, ImageField, ReplaceRegion

if TYPE_CHECKING:  # pragma: no cover
    from workbench.editor import Window

log = logging.getLogger(__name__)


class Editing:
    """The window's edits: every change through ``push``, undo and redo per image, the image's fields.

    Holds no view of its own; it reads and updates the window through ``workbench.editor.Window``."""

    def __init__(self, window: Window):
        self.w = window
        self.pending_box: QMessageBox | None = None  # the open "unreviewed proposals" question (tests answer it)

    def push(self, cmd) -> bool:
        """Apply an undoable edit to the image in view. On failure the store is unchanged, the error is
        shown and the view is reloaded from the store: the screen never shows an unsaved edit."""
        if self.w.readonly or self.w.image is None:
            return False
        try:
            self.w.history.push(cmd)
        except Exception as e:  # noqa: BLE001 - every failure is shown, none is swallowed silently
            self.edit_failed(cmd.text, e)
            return False
        self.w.alert_bar.hide()
        self.update_undo_actions()
        return True

    def edit_failed(self, what: str, e: Exception) -> None:
        if isinstance(e, XwbError):  # StoreError included: the store says why in one line
            reason = str(e)
            log.warning("not saved (%s): %s", what, reason)
        else:
            reason = f"{type(e).__name__}: {e} (details in the log)"
            log.error("not saved (%s)", what, exc_info=e)
        self.w.alert_bar.show_text(f"Not saved — {what}: {reason}. The view shows what the project holds.")
        self.w.message(f"not saved: {what}")
        self.reload_current()
        self.update_undo_actions()

    def reload_current(self) -> None:
        """Show the current image exactly as the store holds it (after a failed edit)."""
        if self.w.image is None or self.w.closed:
            return
        try:
            self.w.image = self.w.project.store.image(self.w.image.id)
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            return
        self.w.show_image_fields()
        regions = self.w.load_regions()
        self.w.images.model.set_regions(self.w.image.id, len(regions),
                                      {r.class_id for r in regions if r.state == "accepted"})

    def update_undo_actions(self) -> None:
        iid = self.w.image.id if self.w.image is not None else None
        for name, can, text in (("undo", self.w.history.can_undo(iid), self.w.history.undo_text(iid)),
                                ("redo", self.w.history.can_redo(iid), self.w.history.redo_text(iid))):
            a = self.w.acts[name]
            a.setEnabled(can and not self.w.readonly)
            a.setText(f"{name.capitalize()} {text}".strip())

    def mark_done_next(self) -> None:
        """Ctrl+D: done, then the next image. Unreviewed proposals need a decision first: a scan marked
        done with pending proposals would train as a clear scan."""
        if self.w.image is not None and not self.w.readonly:
            self.w.panel.flush()
            pending = self.w.project.store.regions(self.w.image.id, state="proposal")
            if pending:
                choice = self._ask_pending(pending)
                if choice is None:
                    self.w.canvas.setFocus()
                    return
                iid = self.w.image.id
                cmds: list[ReplaceRegion | ImageField] = [
                    ReplaceRegion(self.w.session, iid, r, self.w.session.decided(r, choice), f"{choice[:-2]} proposal")
                    for r in pending]
                if self.w.image.status != "done":
                    cmds.append(ImageField(self.w.session, self.w.image.id, "status", self.w.image.status, "done"))
                if not self.push(Batch(self.w.session, self.w.image.id, cmds,
                                       f"done ({choice} {len(pending)} proposal{'s' * (len(pending) > 1)})")):
                    return
            elif not self.set_field("status", "done"):
                return
        self.w.next_image()

    def _ask_pending(self, pending: list[Region]) -> str | None:
        """'accepted', 'rejected' or None (cancel)."""
        n = len(pending)
        names = ", ".join(f"{self.w.tax.by_id(r.class_id).name if r.class_id in self.w.tax.ids else r.class_id}"
                          + ("" if r.score is None else f" {r.score:.2f}") for r in pending[:6])
        box = QMessageBox(QMessageBox.Icon.Question, "Unreviewed proposals",
                          f"This scan has {n} model proposal{'s' * (n > 1)} nobody has reviewed "
                          f"({names}{', …' if n > 6 else ''}).\n"
                          "A scan marked done trains as it stands: decide on them first.", parent=self.w.widget())
        acc = box.addButton("Accept all", QMessageBox.ButtonRole.AcceptRole)
        rej = box.addButton("Reject all", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.pending_box = box
        try:
            box.exec()
        finally:
            self.pending_box = None
        clicked = box.clickedButton()
        return "accepted" if clicked is acc else "rejected" if clicked is rej else None

    def reclass(self, class_id: int) -> None:
        if self.w.volumes.active and self.w.volumes.view is not None:
            self.w.volumes.view.reclass(class_id)
            return
        if self.w.selected is None or self.w.image is None or self.w.readonly or self.w.selected.region.class_id == class_id:
            return
        r = self.w.selected.region
        self.push(ReplaceRegion(self.w.session, self.w.image.id, r, self.w.session.edited(r, class_id=class_id),
                                "change class"))

    def delete_selected(self) -> None:
        """Del: an accepted region is deleted; a proposal is rejected and kept (the model's false alarm)."""
        if self.w.volumes.active and self.w.volumes.view is not None:
            self.w.volumes.view.delete_selected()
            return
        if self.w.selected is None or self.w.image is None or self.w.readonly:
            return
        r = self.w.selected.region
        if r.state == "proposal":
            if self.push(ReplaceRegion(self.w.session, self.w.image.id, r, self.w.session.decided(r, "rejected"),
                                       "reject proposal")):
                self.w.message("proposal rejected: kept as a false alarm (View → Show rejected proposals)")
            return
        if r.state == "rejected":
            self.w.message("a rejected proposal is kept as the model's false-alarm record; Ctrl+Return accepts it")
            return
        self.w.select(None)
        self.push(DeleteRegion(self.w.session, self.w.image.id, r))

    def accept_selected(self) -> None:
        if self.w.volumes.active and self.w.volumes.view is not None:
            self.w.volumes.view.accept_selected()
            return
        if self.w.selected is not None and self.w.image is not None and not self.w.readonly \
                and self.w.selected.region.state in ("proposal", "rejected"):
            r = self.w.selected.region
            self.push(ReplaceRegion(self.w.session, self.w.image.id, r, self.w.session.decided(r, "accepted"),
                                    "accept proposal"))

    def accept_proposals(self, image_ids: list[int], min_score: float, source: str | None = None) -> tuple[int, int]:
        """Accept every proposal scoring at least ``min_score`` (of ``source`` only, when given) in these
        scans: one undoable step per scan (Ctrl+Z on that scan takes it back). (proposals accepted, scans)."""
        if self.w.readonly:
            return 0, 0
        accepted = scans = 0
        for iid in image_ids:
            props = [r for r in self.w.project.store.regions(iid, state="proposal")
                     if r.score is not None and r.score >= min_score and (source is None or r.source == source)]
            if not props:
                continue
            cmd = Batch(self.w.session, iid, [ReplaceRegion(self.w.session, iid, r, self.w.session.decided(r, "accepted"),
                                                          "accept proposal") for r in props],
                        f"accept {len(props)} proposal{'s' if len(props) > 1 else ''} ≥ {min_score:.2f}")
            try:
                self.w.history.push(cmd)
            except Exception as e:  # noqa: BLE001 - shown; the scans before it stay accepted, each whole
                self.edit_failed(cmd.text, e)
                break
            accepted += len(props)
            scans += 1
        self.update_undo_actions()
        return accepted, scans

    def fill_holes(self) -> None:
        if self.w.selected is None or self.w.image is None or self.w.readonly:
            return
        if self.w.selected.region.mask is None:
            self.w.message("fill holes works on masks; the selected region is a polygon")
            return
        from scipy.ndimage import binary_fill_holes

        r = self.w.selected.region
        filled = binary_fill_holes(r.mask)
        if (filled != r.mask).any():
            self.push(ReplaceRegion(self.w.session, self.w.image.id, r, self.w.session.edited(r, mask=filled),
                                    "fill holes"))

    def set_field(self, field: str, value) -> bool:
        """Save one image field of the image in view; False when it could not be saved."""
        if self.w.image is None or self.w.readonly:
            return False
        self.w.panel.flush()  # a comment typed a moment ago goes first
        before = getattr(self.w.image, field)
        if (sorted(before) if isinstance(before, list) else before) == (sorted(value) if isinstance(value, list) else value):
            return True
        return self.push(ImageField(self.w.session, self.w.image.id, field, before, value))

    def brush_smaller(self) -> None:
        self.w.brush_size = max(1, int(self.w.brush_size / 1.25))
        self.w.update_tool_label()

    def brush_bigger(self) -> None:
        self.w.brush_size = min(500, int(self.w.brush_size * 1.25) + 1)
        self.w.update_tool_label()

    def undo(self) -> None:
        self._step("undo")

    def redo(self) -> None:
        self._step("redo")

    def _step(self, which: str) -> None:
        """Undo or redo on the image in view; a failure leaves the history where it was."""
        if self.w.image is None or self.w.readonly:
            return
        text = getattr(self.w.history, f"{which}_text")(self.w.image.id)
        for t in self.w.tools.values():
            t.cancel()
        try:
            cmd = getattr(self.w.history, which)(self.w.image.id)
        except Exception as e:  # noqa: BLE001
            self.edit_failed(f"{which} {text}", e)
            return
        if cmd is None:
            self.w.message(f"nothing to {which} on this image")
        else:
            self.w.alert_bar.hide()
            self.w.message(f"{which}: {cmd.text}", 3000)
        self.update_undo_actions()
