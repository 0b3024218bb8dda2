"""Editing the image in view: every change an undoable command, applied only once the store holds it.

The trust rules of the workbench live here (the main window mixes this in):
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

from PySide6.QtWidgets import QMessageBox

from datasets.errors import XwbError
from datasets.regions import Region
from workbench.commands import Batch, DeleteRegion, ImageField, ReplaceRegion

log = logging.getLogger(__name__)


class EditingMixin:
    """Needs the window's session, history, image, selection, panels, actions and ``_load_regions``."""

    def push(self, cmd) -> bool:
        """Apply an undoable edit to the image in view. On failure the store is unchanged, the error is
        shown and the view is reloaded from the store: the screen never shows an unsaved edit."""
        if self.readonly or self.image is None:
            return False
        try:
            self.history.push(cmd)
        except Exception as e:  # noqa: BLE001 - every failure is shown, none is swallowed silently
            self._edit_failed(cmd.text, e)
            return False
        self.alert_bar.hide()
        self._update_undo_actions()
        return True

    def _edit_failed(self, what: str, e: Exception) -> None:
        if isinstance(e, XwbError):  # StoreError included: the store says why in one line
            reason = str(e)
            log.warning("not saved (%s): %s", what, reason)
        else:
            reason = f"{type(e).__name__}: {e} (details in the log)"
            log.error("not saved (%s)", what, exc_info=e)
        self.alert_bar.show_text(f"Not saved — {what}: {reason}. The view shows what the project holds.")
        self.message(f"not saved: {what}")
        self._reload_current()
        self._update_undo_actions()

    def _reload_current(self) -> None:
        """Show the current image exactly as the store holds it (after a failed edit)."""
        if self.image is None or self._closed:
            return
        try:
            self.image = self.project.store.image(self.image.id)
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            return
        self._show_image_fields()
        regions = self._load_regions()
        self.images.model.set_regions(self.image.id, len(regions),
                                      {r.class_id for r in regions if r.state == "accepted"})

    def _update_undo_actions(self) -> None:
        iid = self.image.id if self.image is not None else None
        for name, can, text in (("undo", self.history.can_undo(iid), self.history.undo_text(iid)),
                                ("redo", self.history.can_redo(iid), self.history.redo_text(iid))):
            a = self.acts[name]
            a.setEnabled(can and not self.readonly)
            a.setText(f"{name.capitalize()} {text}".strip())

    def mark_done_next(self) -> None:
        """Ctrl+D: done, then the next image. Unreviewed proposals need a decision first: a scan marked
        done with pending proposals would train as a clear scan."""
        if self.image is not None and not self.readonly:
            self.panel.flush()
            pending = self.project.store.regions(self.image.id, state="proposal")
            if pending:
                choice = self._ask_pending(pending)
                if choice is None:
                    self.canvas.setFocus()
                    return
                cmds = [ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, choice),
                                      f"{choice[:-2]} proposal") for r in pending]
                if self.image.status != "done":
                    cmds.append(ImageField(self.session, self.image.id, "status", self.image.status, "done"))
                if not self.push(Batch(self.session, self.image.id, cmds,
                                       f"done ({choice} {len(pending)} proposal{'s' * (len(pending) > 1)})")):
                    return
            elif not self._set_field("status", "done"):
                return
        self.next_image()

    def _ask_pending(self, pending: list[Region]) -> str | None:
        """'accepted', 'rejected' or None (cancel)."""
        n = len(pending)
        names = ", ".join(f"{self.tax.by_id(r.class_id).name if r.class_id in self.tax.ids else r.class_id}"
                          + ("" if r.score is None else f" {r.score:.2f}") for r in pending[:6])
        box = QMessageBox(QMessageBox.Icon.Question, "Unreviewed proposals",
                          f"This scan has {n} model proposal{'s' * (n > 1)} nobody has reviewed "
                          f"({names}{', …' if n > 6 else ''}).\n"
                          "A scan marked done trains as it stands: decide on them first.", parent=self)
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

    def _reclass(self, class_id: int) -> None:
        if self.selected is None or self.readonly or self.selected.region.class_id == class_id:
            return
        r = self.selected.region
        self.push(ReplaceRegion(self.session, self.image.id, r, self.session.edited(r, class_id=class_id),
                                "change class"))

    def delete_selected(self) -> None:
        """Del: an accepted region is deleted; a proposal is rejected and kept (the model's false alarm)."""
        if self.selected is None or self.readonly:
            return
        r = self.selected.region
        if r.state == "proposal":
            if self.push(ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, "rejected"),
                                       "reject proposal")):
                self.message("proposal rejected: kept as a false alarm (View → Show rejected proposals)")
            return
        if r.state == "rejected":
            self.message("a rejected proposal is kept as the model's false-alarm record; Ctrl+Return accepts it")
            return
        self.select(None)
        self.push(DeleteRegion(self.session, self.image.id, r))

    def accept_selected(self) -> None:
        if self.selected is not None and not self.readonly and self.selected.region.state in ("proposal", "rejected"):
            r = self.selected.region
            self.push(ReplaceRegion(self.session, self.image.id, r, self.session.decided(r, "accepted"),
                                    "accept proposal"))

    def accept_proposals(self, image_ids: list[int], min_score: float, source: str | None = None) -> tuple[int, int]:
        """Accept every proposal scoring at least ``min_score`` (of ``source`` only, when given) in these
        scans: one undoable step per scan (Ctrl+Z on that scan takes it back). (proposals accepted, scans)."""
        if self.readonly:
            return 0, 0
        accepted = scans = 0
        for iid in image_ids:
            props = [r for r in self.project.store.regions(iid, state="proposal")
                     if r.score is not None and r.score >= min_score and (source is None or r.source == source)]
            if not props:
                continue
            cmd = Batch(self.session, iid, [ReplaceRegion(self.session, iid, r, self.session.decided(r, "accepted"),
                                                          "accept proposal") for r in props],
                        f"accept {len(props)} proposal{'s' if len(props) > 1 else ''} ≥ {min_score:.2f}")
            try:
                self.history.push(cmd)
            except Exception as e:  # noqa: BLE001 - shown; the scans before it stay accepted, each whole
                self._edit_failed(cmd.text, e)
                break
            accepted += len(props)
            scans += 1
        self._update_undo_actions()
        return accepted, scans

    def fill_holes(self) -> None:
        if self.selected is None or self.readonly:
            return
        if self.selected.region.mask is None:
            self.message("fill holes works on masks; the selected region is a polygon")
            return
        from scipy.ndimage import binary_fill_holes

        r = self.selected.region
        filled = binary_fill_holes(r.mask)
        if (filled != r.mask).any():
            self.push(ReplaceRegion(self.session, self.image.id, r, self.session.edited(r, mask=filled),
                                    "fill holes"))

    def _set_field(self, field: str, value) -> bool:
        """Save one image field of the image in view; False when it could not be saved."""
        if self.image is None or self.readonly:
            return False
        self.panel.flush()  # a comment typed a moment ago goes first
        before = getattr(self.image, field)
        if (sorted(before) if isinstance(before, list) else before) == (sorted(value) if isinstance(value, list) else value):
            return True
        return self.push(ImageField(self.session, self.image.id, field, before, value))

    def do_undo(self) -> None:
        self._step("undo")

    def do_redo(self) -> None:
        self._step("redo")

    def _step(self, which: str) -> None:
        """Undo or redo on the image in view; a failure leaves the history where it was."""
        if self.image is None or self.readonly:
            return
        text = getattr(self.history, f"{which}_text")(self.image.id)
        for t in self.tools.values():
            t.cancel()
        try:
            cmd = getattr(self.history, which)(self.image.id)
        except Exception as e:  # noqa: BLE001
            self._edit_failed(f"{which} {text}", e)
            return
        if cmd is None:
            self.message(f"nothing to {which} on this image")
        else:
            self.alert_bar.hide()
            self.message(f"{which}: {cmd.text}", 3000)
        self._update_undo_actions()
