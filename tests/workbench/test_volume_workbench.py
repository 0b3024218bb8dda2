"""The volume workbench in the real main window: slices, strokes, fill between slices, grow, boxes, undo,
proposals; every effect checked in the store."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from datasets.project import Project
from datasets.regions import Region
from datasets.voxel_edit import drawn_slices

DENSE = (slice(6, 12), slice(8, 16), slice(20, 30))  # z, y, x of a dense block (3000 HU) in air


@pytest.fixture
def ct_project(tmp_path):
    """One 24x32x48 CT volume (air, a dense block) and a proposal from a model elsewhere in it."""
    from datasets.synth.ct_project import write_nifti

    vol = np.full((24, 32, 48, 1), 24, np.uint16)  # air: -1000 HU as stored HU + 1024
    vol[DENSE] = 3000 + 1024
    p = Project.create(tmp_path / "ct")
    (p.folder / "volumes").mkdir()
    f = p.folder / "volumes" / "bag.nii"
    write_nifti(f, vol)
    p.add_scans([f])
    rec = p.store.images()[0]
    prop = np.ones((3, 4, 5), bool)
    p.store.add_regions(rec.id, [Region(p.taxonomy.classes[1].id, voxels=prop, mask_x=30, mask_y=20, mask_z=15,
                                        state="proposal", source="model:knife3d/1", score=0.8)])
    p.close()
    return tmp_path / "ct"


@pytest.fixture
def vwin(qtbot, ct_project):
    from workbench.main_window import MainWindow

    w = MainWindow(ct_project, "tester")
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitUntil(lambda: w.volumes.active and w.volumes.view.disp is not None)
    yield w
    w.close()


def _at(view, row, col) -> QPoint:
    return view.to_widget(row + 0.5, col + 0.5).toPoint()


def _mouse(view, kind, pos: QPoint, button=Qt.MouseButton.LeftButton):
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    ev = QMouseEvent(kind, QPointF(pos), QPointF(view.mapToGlobal(pos)), button if kind != QEvent.Type.MouseMove
                     else Qt.MouseButton.NoButton, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, ev)


def stroke(view, points, button=Qt.MouseButton.LeftButton):
    """A mouse drag through (row, col) voxel points of a slice view."""
    _mouse(view, QEvent.Type.MouseButtonPress, _at(view, *points[0]), button)
    for p in points[1:]:
        _mouse(view, QEvent.Type.MouseMove, _at(view, *p), button)
    _mouse(view, QEvent.Type.MouseButtonRelease, _at(view, *points[-1]), button)


def wheel(view, steps: int):
    pos = QPointF(view.width() / 2, view.height() / 2)
    ev = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, ev)


def regions(folder, state=None, rejected=False):
    with Project.open(folder, readonly=True) as p:
        return p.store.regions(p.store.images()[0].id, state=state, include_rejected=rejected)


def test_views_show_three_planes_and_a_projection_linked_by_the_crosshair(vwin):
    v = vwin.volumes.view
    assert v.disp.shape == (24, 32, 48) and v.disp.cursor == [12, 16, 24]
    assert v.views["z"]._buf.shape[:2] == (32, 48) and v.views["y"]._buf.shape[:2] == (24, 48)
    assert v.views["x"]._buf.shape[:2] == (24, 32) and v.proj._buf.shape[:2] == (24, 48)
    wheel(v.views["z"], 3)  # the wheel steps the axial slice; the other views' crosshairs follow
    assert v.disp.cursor[0] == 15 and v.views["y"].cross[0] == 15 and v.views["x"].cross[0] == 15
    v.views["z"].setFocus()
    QTest.keyClick(v, Qt.Key.Key_Down)
    assert v.disp.cursor[0] == 14 and "15/24" in v.views["z"].title
    # a click in the coronal view moves z and x, keeps y; in the projection too (a radiograph to CT slices)
    QTest.keyClick(vwin, Qt.Key.Key_V)  # the select key: navigate
    assert v.tool == "navigate"
    _mouse(v.views["y"], QEvent.Type.MouseButtonPress, _at(v.views["y"], 8, 25))
    assert v.disp.cursor == [8, 16, 25]
    _mouse(v.proj, QEvent.Type.MouseButtonPress, _at(v.proj, 10, 30))
    assert v.disp.cursor == [10, 16, 30]
    # the dense block is white in its slices through the bag window, air black
    axial = v.views["z"]._buf
    assert axial[10, 25].min() > 200 and axial[2, 2].max() < 10
    assert v.proj._buf[8, 25, 0] < v.proj._buf[2, 2, 0]  # the block darkens the radiograph


def test_strokes_on_two_slices_filled_between_and_undone_in_the_store(vwin, ct_project):
    v = vwin.volumes.view
    QTest.keyClick(vwin, Qt.Key.Key_B)  # the main window's brush key picks the volume brush
    assert v.tool == "brush"
    v.radius = 2
    v.set_cursor(4, 16, 24)
    stroke(v.views["z"], [(20, 10), (20, 14), (20, 18)])
    (r,) = [r for r in regions(ct_project) if r.state == "accepted"]
    assert r.author == "tester" and r.source == "manual" and drawn_slices(r, "z") == [4]
    v.set_cursor(9, 16, 24)
    stroke(v.views["z"], [(22, 12), (22, 16)])
    (r,) = [r for r in regions(ct_project) if r.state == "accepted"]
    assert drawn_slices(r, "z") == [4, 9]  # the same object: the selected region grew
    before = r.voxels.copy()
    QTest.keyClick(vwin, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)  # fill between drawn slices
    (r,) = [r for r in regions(ct_project) if r.state == "accepted"]
    assert drawn_slices(r, "z") == [4, 5, 6, 7, 8, 9]
    mid = r.voxels[r.voxels.shape[0] // 2]
    assert mid.sum() > 0 and np.array_equal(r.voxels[0], before[0]) and np.array_equal(r.voxels[-1], before[-1])
    QTest.keyClick(vwin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    (r,) = [r for r in regions(ct_project) if r.state == "accepted"]
    assert drawn_slices(r, "z") == [4, 9] and np.array_equal(r.voxels, before)
    # the eraser takes voxels away on the slice in view
    QTest.keyClick(vwin, Qt.Key.Key_E)
    v.set_cursor(4, 16, 24)
    stroke(v.views["z"], [(20, 8), (20, 20)])
    (r,) = [r for r in regions(ct_project) if r.state == "accepted"]
    assert drawn_slices(r, "z") == [9]


def test_grow_takes_the_block_a_click_lands_on_and_a_box_spans_the_slice(vwin, ct_project):
    v = vwin.volumes.view
    QTest.keyClick(vwin, Qt.Key.Key_G)
    assert v.tool == "grow"
    v.set_cursor(8, 16, 24)
    _mouse(v.views["z"], QEvent.Type.MouseButtonPress, _at(v.views["z"], 10, 25))
    grown = [r for r in regions(ct_project) if r.state == "accepted"]
    assert len(grown) == 1 and grown[0].voxels.sum() == 6 * 8 * 10
    assert (grown[0].mask_x, grown[0].mask_y, grown[0].mask_z) == (20, 8, 6)
    QTest.keyClick(vwin, Qt.Key.Key_R)
    assert v.tool == "box"
    stroke(v.views["z"], [(2, 2), (6, 8), (8, 12)])  # voxels of rows 2..8, columns 2..12 of slice 8
    box = [r for r in regions(ct_project) if r.box is not None]
    assert len(box) == 1
    x0, y0, z0, x1, y1, z1 = box[0].box
    assert (x0, y0, x1, y1) == (2, 2, 13, 9) and (z0, z1) == (5, 12)  # 7 deep, around slice 8


def test_a_model_proposal_is_accepted_and_the_undo_gives_it_back(vwin, ct_project):
    v = vwin.volumes.view
    (p,) = regions(ct_project, "proposal")
    assert p.voxels.shape == (3, 4, 5)
    v.accept_button.click()
    assert regions(ct_project, "proposal") == [] and regions(ct_project, "accepted")[0].decided_by == "tester"
    QTest.keyClick(vwin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    (back,) = regions(ct_project, "proposal")
    assert back.id == p.id and back.source == "model:knife3d/1" and np.array_equal(back.voxels, p.voxels)
    # a picked row centres the views on the region; Del rejects a proposal (kept as a false alarm)
    vwin.select_region(p.id)
    assert v.disp.cursor == [16, 22, 32]
    QTest.keyClick(vwin, Qt.Key.Key_Delete)
    assert [(r.id, r.state) for r in regions(ct_project, rejected=True)] == [(p.id, "rejected")]
