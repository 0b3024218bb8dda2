"""The workbench never loses or damages an annotator's work (issue 11).

Each test reproduces one defect found by trying the workbench as a new annotator would: the real main
window is driven with keys and the mouse, and the effect is read back from the project store (a
separate read-only connection), never from widget state.
"""

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from datasets.project import Project
from datasets.regions import Region
from tests.conftest import tmpfs
from tests.workbench.conftest import click, drag

CTRL = Qt.KeyboardModifier.ControlModifier


def stored(folder):
    return Project.open(folder, readonly=True)


def regions(folder, image_id, **kw):
    with stored(folder) as p:
        return p.store.regions(image_id, **kw)


def image(folder, image_id):
    with stored(folder) as p:
        return p.store.image(image_id)


def add(folder, image_id, region) -> int:
    with Project.open(folder) as p:
        return p.store.add_region(image_id, region)


def synthetic_mask(class_id, x0, y0, w, h, **kw):
    m = np.ones((h, w), bool)
    meta = dict(source="synthetic", author="xwb synth", state="accepted")
    meta.update(kw)
    return Region(class_id, mask=m, mask_x=x0, mask_y=y0, **meta)


def open_window(qtbot, folder, author="tester"):
    from workbench.main_window import MainWindow

    w = MainWindow(folder, author)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=15_000)
    return w


def wait_regions(qtbot, w, n):
    qtbot.waitUntil(lambda: len(w.canvas.region_items) == n, timeout=10_000)


def focus(w):
    """The widget that has the keyboard inside the window (offscreen windows are never 'active')."""
    return w.focusWidget()


def answer_box(qtbot, w, button_text: str | None):
    """Click ``button_text`` on the next modal message box (None: Cancel), from inside its event loop."""
    state = {"tries": 0, "seen": False}

    def handle():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            state["tries"] += 1
            if state["tries"] < 400:  # the box may not be up yet on a loaded machine
                QTimer.singleShot(10, handle)
            return
        state["seen"] = True
        for b in box.buttons():
            if (button_text is None and box.standardButton(b) == QMessageBox.StandardButton.Cancel) or \
                    b.text() == button_text:
                b.click()
                return
        box.reject()
    QTimer.singleShot(0, handle)
    return state


# -- 1. typed fields reach the store before anything else happens ------------------------------------
@pytest.mark.parametrize("leave", ["ctrl_d", "list_click", "tag", "close", "status"])
def test_comment_typed_just_before_leaving_is_saved(window, known_project, qtbot, leave):
    w = window
    iid = w.image.id
    w.panel.comment.setFocus()
    QTest.keyClicks(w.panel.comment, "two laptops")
    w.panel.manifest.setText("electronics, textiles")  # typed, no Return, no focus change
    if leave == "ctrl_d":
        QTest.keyClick(focus(w) or w.panel.comment, Qt.Key.Key_D, CTRL)
        assert w.image.id != iid
        assert image(known_project, iid).status == "done"
    elif leave == "list_click":
        other = [i for i in w.images.order() if i != iid][0]
        w.images.activated.emit(other)
    elif leave == "tag":
        it = w.panel.tags.item(0)
        it.setCheckState(Qt.CheckState.Checked)
        assert image(known_project, iid).tags == [it.data(Qt.ItemDataRole.UserRole)]
    elif leave == "close":
        w.close()
    else:
        w.panel.status.setCurrentText("in_progress")
        w.panel.status.activated.emit(w.panel.status.currentIndex())
        assert image(known_project, iid).status == "in_progress"
    rec = image(known_project, iid)
    assert rec.comment == "two laptops"
    assert rec.manifest == ["electronics", "textiles"]


# -- 2. after Ctrl+D or a walk the keyboard is back on the canvas ------------------------------------
def test_keys_after_ctrl_d_do_not_type_into_the_comment(window, known_project, qtbot):
    w = window
    first = w.image.id
    w.panel.comment.setFocus()
    QTest.keyClicks(w.panel.comment, "ok")
    QTest.keyClick(focus(w) or w.panel.comment, Qt.Key.Key_D, CTRL)
    second = w.image.id
    assert second != first
    target = focus(w)
    assert target is w.canvas
    QTest.keyClick(target, Qt.Key.Key_D)   # next image
    QTest.keyClick(focus(w), Qt.Key.Key_3)  # class 3
    w.panel.flush()
    with stored(known_project) as p:
        comments = {r.id: r.comment for r in p.store.images()}
    assert comments[first] == "ok"
    assert not any("d" in c or "3" in c for c in comments.values()), comments
    assert w.image.id not in (first, second) and w.class_id == 3


def test_escape_in_a_text_field_hands_the_keys_back(window):
    w = window
    w.panel.manifest.setFocus()
    QTest.keyClick(w.panel.manifest, Qt.Key.Key_Escape)
    assert focus(w) is w.canvas


# -- 3. undo acts on the image in view only --------------------------------------------------------
def test_undo_never_reaches_into_another_image(window, known_project, qtbot):
    w = window
    first = w.image.id
    w.use_tool("rectangle")
    drag(w, [(20, 30), (80, 90)])
    assert len(regions(known_project, first)) == 1
    QTest.keyClick(w.canvas, Qt.Key.Key_D)
    assert w.image.id != first
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=10_000)
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)
    assert len(regions(known_project, first)) == 1           # the previous image is untouched
    assert not w.acts["undo"].isEnabled()                     # greyed out: this image has no history
    QTest.keyClick(w.canvas, Qt.Key.Key_A)                     # back: its history is still there
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=10_000)
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)
    assert regions(known_project, first) == []
    row = w.images.model.row_of(first)
    assert w.images.model.data(w.images.model.index(row, 3)) == 0  # the list's count follows


# -- 4. the eraser edits the selected region, or only the current class --------------------------------
def test_eraser_spares_other_classes_and_their_provenance(window, known_project, qtbot):
    w = window
    iid = w.image.id
    waste = add(known_project, iid, synthetic_mask(6, 100, 50, 80, 60))
    cash = add(known_project, iid, synthetic_mask(7, 120, 60, 40, 40))
    w.refresh()
    wait_regions(qtbot, w, 2)
    w.class_palette.choose(7)                              # current class: currency
    w.use_tool("eraser")
    assert "currency" in w.tool_label.text()
    w.brush_size = 10
    drag(w, [(110, 80), (170, 80)])                  # across both masks
    with stored(known_project) as p:
        a, b = p.store.region(waste), p.store.region(cash)
    assert a.area() == 80 * 60 and (a.author, a.source) == ("xwb synth", "synthetic")  # untouched
    assert b.area() < 40 * 40 and not b.to_mask(300, 200)[80, 140]
    # with a region selected, the eraser edits that one only, whatever the current class
    w.use_tool("select")
    click(w, 105, 55)                                # a corner only the waste mask covers
    assert w.selected is not None and w.selected.region.id == waste
    w.use_tool("eraser")
    assert f"#{waste}" in w.tool_label.text()
    before_b = regions(known_project, iid)[1].area()
    drag(w, [(110, 100), (170, 100)])
    with stored(known_project) as p:
        a, b = p.store.region(waste), p.store.region(cash)
    assert a.area() < 80 * 60 and b.area() == before_b


# -- 5. undo restores a region exactly, provenance included ------------------------------------------
def test_undo_restores_provenance_after_erase_and_reclass(window, known_project, qtbot):
    w = window
    iid = w.image.id
    rid = add(known_project, iid, synthetic_mask(6, 100, 50, 80, 60, state="proposal", score=0.83,
                                                 source="model:seg/3", author="xwb prelabel"))
    w.refresh()
    wait_regions(qtbot, w, 1)
    original = regions(known_project, iid)[0]
    w.class_palette.choose(6)
    w.use_tool("eraser")
    w.brush_size = 8
    drag(w, [(110, 80), (170, 80)])
    edited = regions(known_project, iid)[0]
    assert edited.area() < original.area() and edited.author == "tester"
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)
    w.use_tool("select")
    click(w, 105, 55)
    QTest.keyClick(w, Qt.Key.Key_2)                  # re-class to knife
    assert regions(known_project, iid)[0].class_id == 2
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)
    (back,) = regions(known_project, iid)
    assert back.id == rid
    for k in ("class_id", "state", "source", "author", "score", "mask_x", "mask_y"):
        assert getattr(back, k) == getattr(original, k), k
    assert np.array_equal(back.mask, original.mask)


def test_undo_of_delete_brings_the_region_back_under_its_id(window, known_project):
    w = window
    iid = w.image.id
    rid = add(known_project, iid, synthetic_mask(4, 10, 10, 30, 30))
    w.refresh()
    w.use_tool("select")
    click(w, 20, 20)
    QTest.keyClick(w.canvas, Qt.Key.Key_Delete)
    assert regions(known_project, iid) == []
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)
    (r,) = regions(known_project, iid)
    assert (r.id, r.author, r.source) == (rid, "xwb synth", "synthetic")


# -- 6. a read-only window takes no input and follows the writer by itself -----------------------------
def test_read_only_window_is_disabled_and_follows_the_writer(window, known_project, qtbot):
    w2 = open_window(qtbot, known_project, "viewer")
    assert w2.readonly
    for widget in (w2.panel.comment, w2.panel.manifest, w2.panel.tags, w2.panel.status, w2.regions.cls,
                   w2.regions.acc, w2.regions.dele, w2.class_palette):
        assert not widget.isEnabled(), widget
    for n in ("polygon", "rectangle", "brush", "eraser", "delete", "accept", "undo", "redo", "done"):
        assert not w2.acts[n].isEnabled(), n
    iid = w2.image.id
    QTest.keyClicks(w2.panel.comment, "lost?")
    w2.panel.tags.item(0).setCheckState(Qt.CheckState.Checked)
    w2.panel.flush()
    rec = image(known_project, iid)
    assert rec.comment == "" and rec.tags == []
    # the writer (the other window) draws: the read-only view shows it without F5
    window.use_tool("rectangle")
    drag(window, [(20, 30), (80, 90)])
    wait_regions(qtbot, w2, 1)
    window.panel.comment.setFocus()
    QTest.keyClicks(window.panel.comment, "seen")
    window.panel.flush()
    qtbot.waitUntil(lambda: w2.panel.comment.toPlainText() == "seen", timeout=10_000)
    w2.close()


def test_a_project_on_read_only_media_opens_read_only(qtbot, tmp_path):
    import subprocess

    from datasets.scanio import write_tiff

    with tmpfs(tmp_path / "media", "20m") as mnt:
        p = Project.create(mnt / "p")
        (p.folder / "images").mkdir()
        write_tiff(p.folder / "images" / "a.tiff", np.full((60, 80), 30000, np.uint16))
        p.add_scans([p.folder / "images" / "a.tiff"])
        p.close()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        w = open_window(qtbot, mnt / "p")
        assert w.readonly and "read-only file system" in w.banner.text()
        assert not w.panel.comment.isEnabled() and not w.acts["polygon"].isEnabled()
        w.close()


# -- 7. Ctrl+D with unreviewed proposals asks first ---------------------------------------------------
def _proposal(class_id=5, score=0.7):
    return Region(class_id, polygon=np.array([[5, 5], [90, 5], [90, 90]], float), state="proposal",
                  source="model:m/1", score=score, author="xwb prelabel")


@pytest.mark.parametrize("answer", ["Accept all", "Reject all", None])
def test_ctrl_d_with_pending_proposals_needs_a_decision(window, known_project, qtbot, answer):
    w = window
    iid = w.image.id
    rid = add(known_project, iid, _proposal())
    w.refresh()
    seen = answer_box(qtbot, w, answer)
    QTest.keyClick(w.canvas, Qt.Key.Key_D, CTRL)
    assert seen["seen"], "no question was asked"
    rec = image(known_project, iid)
    (r,) = regions(known_project, iid, include_rejected=True)
    if answer is None:
        assert rec.status == "new" and w.image.id == iid and r.state == "proposal"
        return
    assert rec.status == "done" and w.image.id != iid
    assert r.id == rid and r.state == ("accepted" if answer == "Accept all" else "rejected")
    assert r.decided_by == "tester" and r.decided_at is not None and r.source == "model:m/1"


# -- 8. a rejected proposal is kept as the model's false alarm -----------------------------------------
def test_rejecting_a_proposal_keeps_it_out_of_labels(window, known_project, qtbot, tmp_path):
    from datasets.formats.coco import export_coco

    w = window
    iid = w.image.id
    rid = add(known_project, iid, _proposal())
    w.refresh()
    wait_regions(qtbot, w, 1)
    w.use_tool("select")
    click(w, 80, 20)
    assert w.selected is not None
    QTest.keyClick(w.canvas, Qt.Key.Key_Delete)
    with stored(known_project) as p:
        r = p.store.region(rid)
        assert r.state == "rejected" and r.decided_by == "tester" and r.decided_at is not None
        assert p.store.regions(iid) == [] and p.store.regions(iid, state="accepted") == []
        assert p.store.region_counts().get(iid, 0) == 0
        plain = export_coco(p, tmp_path / "a.json", with_proposals=True)
        full = export_coco(p, tmp_path / "b.json", with_proposals=True, with_rejected=True)
    assert plain["annotations"] == 0 and full["annotations"] == 1
    assert w.canvas.region_items == []                      # hidden by default
    w.toggle_rejected()
    wait_regions(qtbot, w, 1)
    assert w.canvas.region_items[0].region.state == "rejected"
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)            # undo: a proposal again
    assert regions(known_project, iid)[0].state == "proposal"


# -- 9. one selection, shown the same everywhere --------------------------------------------------------
def test_canvas_selection_drives_the_regions_panel(window, known_project, qtbot):
    w = window
    iid = w.image.id
    a = add(known_project, iid, synthetic_mask(4, 10, 10, 40, 40))
    b = add(known_project, iid, synthetic_mask(9, 200, 100, 40, 40, score=0.5))
    w.refresh()
    wait_regions(qtbot, w, 2)
    t = w.regions.table
    t.selectionModel().select(t.model().index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect |
                              QItemSelectionModel.SelectionFlag.Rows)  # the panel row of region a
    w.use_tool("select")
    click(w, 220, 120)                                 # ... then region b on the canvas
    assert w.selected.region.id == b
    rows = {i.row() for i in t.selectedItems()}
    assert rows == {1}
    assert w.regions.cls.currentData() == 9             # the class box shows the selected region's class
    QTest.keyClick(w.canvas, Qt.Key.Key_Delete)         # Del acts on what both show
    with stored(known_project) as p:
        assert [r.id for r in p.store.regions(iid)] == [a]
    # the score column fits inside the panel
    w.refresh()
    wait_regions(qtbot, w, 1)
    right = t.columnViewportPosition(5) + t.columnWidth(5)
    assert right <= t.viewport().width()


def test_regions_panel_class_box_reclasses_the_selection(window, known_project, qtbot):
    w = window
    iid = w.image.id
    a = add(known_project, iid, synthetic_mask(4, 10, 10, 40, 40))
    w.refresh()
    w.use_tool("select")
    click(w, 20, 20)
    i = w.regions.cls.findData(8)
    w.regions.cls.setCurrentIndex(i)
    w.regions.cls.activated.emit(i)
    with stored(known_project) as p:
        assert p.store.region(a).class_id == 8


# -- 10. smaller things an annotator trips on --------------------------------------------------------
def test_brush_strokes_extend_the_touched_mask_and_shift_starts_a_new_one(window, known_project):
    w = window
    iid = w.image.id
    w.class_palette.choose(3)
    w.use_tool("brush")
    w.brush_size = 10
    drag(w, [(100, 100), (140, 100)])
    w.select(None)
    drag(w, [(145, 100), (180, 100)])                  # touches the first stroke: the same region grows
    (r,) = regions(known_project, iid)
    assert r.to_mask(300, 200)[100, 100:180].all()
    v = w.canvas.viewport()
    p0, p1 = w.canvas.mapFromScene(100, 150), w.canvas.mapFromScene(140, 150)
    QTest.mousePress(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p0)
    QTest.mouseMove(v, p1)
    QTest.mouseRelease(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, p1)
    drag(w, [(100, 100), (100, 150)])                  # joins the (selected) new one, not a third region
    assert len(regions(known_project, iid)) == 2


def test_zoom_has_a_floor(window):
    w = window
    fit = w.canvas.zoom
    for _ in range(60):
        QTest.keyClick(w.canvas, Qt.Key.Key_Minus)
    assert w.canvas.zoom >= fit / 4 * 0.99
    assert "zoom 0%" not in w.zoom_label.text()


def test_preset_box_keeps_the_chosen_preset(window):
    w = window
    w.disp.preset.setCurrentText("dense (cargo)")
    assert w.disp.preset.currentText() == "dense (cargo)"
    assert w.viewing.display.window == (0.0, 0.25 * w.viewing.display.max_value)
    w.disp.low.setValue(5000)
    assert w.disp.preset.currentText() == "custom"


def test_filtering_never_highlights_a_row_that_is_not_open(window):
    w = window
    open_id = w.image.id
    w.images.status.setCurrentText("done")            # the open image is "new": filtered out
    assert w.images.view.selectionModel().selectedRows() == []
    w.images.status.setCurrentIndex(0)
    rows = w.images.view.selectionModel().selectedRows()
    assert [w.images.proxy.data(r, Qt.ItemDataRole.UserRole) for r in rows] == [open_id]


def test_relaunch_opens_where_the_annotator_left_off(qtbot, known_project):
    w = open_window(qtbot, known_project)
    last = w.images.order()[-1]
    w.open_image(last)
    w.close()
    w2 = open_window(qtbot, known_project)
    assert w2.image.id == last
    w2.close()


def test_gestures_that_do_nothing_say_why(window, known_project):
    w = window
    iid = w.image.id
    w.use_tool("polygon")
    click(w, 10, 10)
    click(w, 60, 10)
    QTest.keyClick(w.canvas, Qt.Key.Key_Return)
    assert "at least 3 points" in w.statusBar().currentMessage()
    QTest.keyClick(w.canvas, Qt.Key.Key_Escape)
    w.use_tool("rectangle")
    drag(w, [(20, 30), (80, 90)])
    w.use_tool("select")
    click(w, 50, 50)
    w.use_tool("eraser")
    drag(w, [(30, 50), (70, 50)])
    assert "polygon" in w.statusBar().currentMessage()
    assert regions(known_project, iid)[0].polygon is not None


def test_image_list_names_are_elided_in_the_middle_with_full_path_tooltips(window, known_project):
    w = window
    assert w.images.view.textElideMode() == Qt.TextElideMode.ElideMiddle
    tip = w.images.model.data(w.images.model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(str(known_project)) and tip.endswith("scan_0.tiff")
    assert w.disp.low.prefix().strip() and w.disp.high.prefix().strip()  # the two window numbers say what they are
