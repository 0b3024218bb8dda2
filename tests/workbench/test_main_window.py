"""The real main window driven with mouse and keys; the store is read back to check every edit."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from datasets.project import Project
from tests.workbench.conftest import click, drag


def regions(folder, image_id, state=None):
    with Project.open(folder, readonly=True) as p:
        return p.store.regions(image_id, state=state)


def test_polygon_class_change_undo_redo(window, known_project):
    w = window
    iid = w.image.id
    w.use_tool("polygon")
    for x, y in [(40, 40), (120, 40), (120, 120), (40, 120)]:
        click(w, x, y)
    click(w, 40.5, 40.5)  # on the first vertex: closes
    (r,) = regions(known_project, iid)
    assert r.polygon is not None and len(r.polygon) == 4 and r.class_id == 1
    assert r.author == "tester" and r.source == "manual" and r.state == "accepted"
    np.testing.assert_allclose(r.polygon, [[40, 40], [120, 40], [120, 120], [40, 120]], atol=1.0)
    assert len(w.canvas.region_items) == 1

    w.use_tool("select")
    click(w, 80, 80)
    assert w.selected is not None
    QTest.keyClick(w, Qt.Key.Key_2)
    assert regions(known_project, iid)[0].class_id == 2
    # the history says who did it, from the workbench, and what changed
    h = [e for e in w.project.store.history(image_id=iid) if e.action.startswith("region.")]
    assert [(e.action, e.who, e.program) for e in h[-2:]] == [("region.create", "tester", "workbench"),
                                                             ("region.update", "tester", "workbench")]
    assert h[-1].summary() == "class_id 1 -> 2"
    w.editing.undo()
    assert regions(known_project, iid)[0].class_id == 1
    w.editing.redo()
    assert regions(known_project, iid)[0].class_id == 2
    w.editing.undo()
    w.editing.undo()
    assert regions(known_project, iid) == []       # the polygon is gone
    w.editing.redo()
    w.editing.redo()
    (again,) = regions(known_project, iid)          # back, under a new id, with its class change
    assert again.class_id == 2 and len(again.polygon) == 4


def test_polygon_closes_with_enter_and_escape_cancels(window, known_project):
    w = window
    w.use_tool("polygon")
    for x, y in [(10, 150), (60, 150), (60, 190)]:
        click(w, x, y)
    QTest.keyClick(w.canvas, Qt.Key.Key_Return)
    assert len(regions(known_project, w.image.id)) == 1
    click(w, 200, 20)
    click(w, 250, 20)
    QTest.keyClick(w.canvas, Qt.Key.Key_Escape)
    assert len(regions(known_project, w.image.id)) == 1


def test_brush_eraser_and_mask_undo(window, known_project):
    w = window
    iid = w.image.id
    w.class_palette.choose(3)
    w.use_tool("brush")
    w.brush_size = 10
    drag(w, [(160 + i * 10, 100) for i in range(10)])
    (r,) = regions(known_project, iid)
    assert r.mask is not None and r.class_id == 3
    m = r.to_mask(300, 200)
    assert m[100, 160:250].all() and not m[130, 200] and m.sum() > 800
    area = r.area()
    cmd = w.history.last(iid)
    assert cmd.after.shape == (cmd.rect[3] - cmd.rect[1], cmd.rect[2] - cmd.rect[0])  # the rectangle, not the scan

    w.use_tool("eraser")
    drag(w, [(200, 90), (200, 110)])
    (r2,) = regions(known_project, iid)
    assert r2.area() < area and not r2.to_mask(300, 200)[100, 200]
    w.editing.undo()
    assert regions(known_project, iid)[0].area() == area
    w.editing.undo()
    assert regions(known_project, iid) == []


def test_select_move_and_delete(window, known_project):
    w = window
    iid = w.image.id
    w.use_tool("rectangle")
    drag(w, [(20, 30), (60, 80)])
    (r,) = regions(known_project, iid)
    w.use_tool("select")
    drag(w, [(40, 50), (70, 60)])
    (moved,) = regions(known_project, iid)
    np.testing.assert_allclose(moved.polygon - r.polygon, [[30, 10]] * 4, atol=1.0)
    click(w, 70, 65)
    assert w.selected is not None
    QTest.keyClick(w.canvas, Qt.Key.Key_Delete)
    assert regions(known_project, iid) == []


def test_switching_images_and_image_fields(window, known_project):
    w = window
    first = w.image.id
    QTest.keyClick(w, Qt.Key.Key_D)
    assert w.image.id != first
    w.panel.status.setCurrentText("done")
    w.panel.status.activated.emit(w.panel.status.currentIndex())
    w.panel.manifest.setText("textiles, machinery")
    w.panel.manifest.editingFinished.emit()
    with Project.open(known_project, readonly=True) as p:
        rec = p.store.image(w.image.id)
    assert rec.status == "done" and rec.manifest == ["machinery", "textiles"]
    w.editing.undo()
    w.editing.undo()
    with Project.open(known_project, readonly=True) as p:
        assert p.store.image(w.image.id).status == "new"
    QTest.keyClick(w, Qt.Key.Key_A)
    assert w.image.id == first


def _pixel(w, x, y):
    img = w.canvas.viewport().grab().toImage()
    p = w.canvas.mapFromScene(x, y)
    c = img.pixelColor(p)
    return c.red(), c.green(), c.blue()


def test_canvas_pixels_follow_window_level_and_overlays(window, qtbot):
    w = window
    d = w.viewing.display.change(mode="high", window=(0.0, 60000.0))
    w.disp.show_display(d)
    w.viewing.set_display(d)
    want_l, want_r = round(10000 / 60000 * 255), round(50000 / 60000 * 255)
    qtbot.waitUntil(lambda: abs(_pixel(w, 75, 100)[0] - want_l) <= 2 and abs(_pixel(w, 225, 100)[0] - want_r) <= 2)
    d = d.change(window=(0.0, 20000.0))
    w.viewing.set_display(d)
    qtbot.waitUntil(lambda: abs(_pixel(w, 75, 100)[0] - 128) <= 2 and _pixel(w, 225, 100)[0] == 255)
    w.viewing.set_display(d.change(invert=True))
    qtbot.waitUntil(lambda: _pixel(w, 225, 100)[0] == 0)
    # an opaque overlay shows the class colour of the taxonomy
    w.viewing.set_opacity(1.0)
    w.use_tool("rectangle")
    drag(w, [(100, 60), (200, 160)])
    qtbot.waitUntil(lambda: _pixel(w, 150, 110) == w.tax.by_id(1).rgb)


def test_window_level_by_right_drag(window):
    w = window
    before = w.viewing.display.window
    drag(w, [(150, 100), (250, 60)], button=Qt.MouseButton.RightButton)
    after = w.viewing.display.window
    assert after != before and (after[1] - after[0]) > (before[1] - before[0])


def test_second_window_is_read_only_and_sees_other_writers_on_refresh(window, qtbot, known_project):
    from datasets.regions import Region
    from workbench.main_window import MainWindow

    w2 = MainWindow(known_project, "viewer")
    qtbot.addWidget(w2)
    assert w2.readonly and w2.banner.isVisibleTo(w2) and "tester" in w2.banner.text()
    assert not w2.acts["polygon"].isEnabled()
    qtbot.waitUntil(lambda: w2.canvas.scan_item is not None, timeout=10_000)
    with Project.open(known_project) as p:  # a command-line writer (prelabel, import) meanwhile
        p.store.add_region(w2.image.id, Region(4, polygon=np.array([[5, 5], [50, 5], [50, 50]], float),
                                               state="proposal", source="model:m/1", score=0.8))
    assert len(w2.canvas.region_items) == 0
    w2.refresh()
    assert len(w2.canvas.region_items) == 1 and w2.canvas.region_items[0].region.state == "proposal"
    w2.close()


def test_accepting_a_proposal(window, known_project):
    from datasets.regions import Region

    w = window
    with Project.open(known_project) as p:
        p.store.add_region(w.image.id, Region(5, polygon=np.array([[5, 5], [90, 5], [90, 90]], float),
                                              state="proposal", source="model:m/1", score=0.7))
    w.refresh()
    w.select_region(w.canvas.region_items[0].region.id)
    w.editing.accept_selected()
    (r,) = regions(known_project, w.image.id)
    assert r.state == "accepted" and r.source == "model:m/1"


def test_unreadable_scan_is_an_error_row(qtbot, known_project):
    from workbench.main_window import MainWindow

    (known_project / "images" / "scan_1.tiff").write_bytes(b"broken")
    w = MainWindow(known_project, "tester")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=10_000)
    bad = [r.id for r in w.images.model.rows if r.path.endswith("scan_1.tiff")][0]
    w.open_image(bad)
    qtbot.waitUntil(lambda: bad in w.images.model.errors, timeout=10_000)
    row = w.images.model.row_of(bad)
    assert w.images.model.data(w.images.model.index(row, 2)) == "error"
    assert "scan_1.tiff" in w.statusBar().currentMessage()
    w.next_image()  # the app goes on
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=10_000)
    w.close()


def test_shortcuts_dialog_lists_the_keys(window):
    from workbench.actions import ShortcutsDialog

    d = ShortcutsDialog(window)
    keys = {d.table.item(i, 0).text() for i in range(d.table.rowCount())}
    assert {"P", "R", "B", "E", "V", "F", "Ctrl+Z", "[", "]"} <= keys
    assert any("A" in k and "PgUp" in k for k in keys)


def test_filters_walk_only_matching_images(window, known_project):
    w = window
    first = w.image.id
    w.editing.set_field("status", "done")
    w.images.status.setCurrentText("done")
    assert w.images.order() == [first]
    w.images.status.setCurrentIndex(0)
    assert len(w.images.order()) == 3


def test_polygon_vertices_drag_insert_delete(window, known_project, qtbot):
    w = window
    iid = w.image.id
    w.use_tool("rectangle")
    drag(w, [(50, 50), (150, 130)])
    w.use_tool("select")
    click(w, 100, 90)
    assert w.selected is not None and len(w.selected.region.polygon) == 4
    drag(w, [(150, 50), (170, 40)])                   # drag the top-right vertex
    (r,) = regions(known_project, iid)
    assert [170, 40] in np.round(r.polygon).tolist()
    QTest.mouseDClick(w.canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      w.canvas.mapFromScene(100, 130))  # on the bottom edge: a new vertex
    (r,) = regions(known_project, iid)
    assert len(r.polygon) == 5
    click(w, 100, 130, mods=Qt.KeyboardModifier.ShiftModifier)  # Shift+click deletes it again
    (r,) = regions(known_project, iid)
    assert len(r.polygon) == 4
    w.editing.undo()
    assert len(regions(known_project, iid)[0].polygon) == 5
