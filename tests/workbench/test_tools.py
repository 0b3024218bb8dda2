"""Tools from one registry, and the assisted tools in the real window: keys and the mouse in, the store
read through its own connection out."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from datasets.project import Project
from datasets.scanio import write_tiff
from tests.workbench.conftest import click, drag, vp
from tests.workbench.test_assist import I0, counts, scene
from workbench import actions, tools
from workbench.assist.masks import Patch, iou

SHIFT, ALT = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.AltModifier


@pytest.fixture
def dual_project(tmp_path):
    """One dual-energy 16-bit scan with an object at rows 100-199, cols 150-299 and a disc beside it."""
    hi, lo, _ = scene()
    yy, xx = np.mgrid[:hi.shape[0], :hi.shape[1]]
    disc = (yy - 300) ** 2 + (xx - 470) ** 2 <= 60 ** 2
    hi[disc] += 0.9
    lo[disc] += 1.2
    p = Project.create(tmp_path / "dual")
    (p.folder / "images").mkdir()
    f = p.folder / "images" / "bag.tiff"
    write_tiff(f, counts(hi, lo), meta={"i0": [I0, I0], "dark": 0.0})
    p.add_scans([f])
    p.close()
    return tmp_path / "dual", disc


@pytest.fixture
def dual_window(qtbot, dual_project):
    from workbench.main_window import MainWindow

    w = MainWindow(dual_project[0], "tester")
    qtbot.addWidget(w)
    w.resize(1100, 800)
    w.show()
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None, timeout=15_000)
    yield w
    w.close()


def stored_regions(folder):
    with Project.open(folder, readonly=True) as p:
        iid = p.store.images()[0].id
        return p.store.regions(iid)


def as_patch(r, size=(600, 400)) -> Patch:
    m, x, y = r.crop_mask(*size)
    return Patch(m.astype(bool), x, y)


def key(w, k, mods=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(w.canvas, k, mods)


def test_every_registered_tool_is_in_the_toolbar_menu_and_shortcuts(dual_window):
    w = dual_window
    names = [t.name for t in tools.registered()]
    assert names[:5] == ["select", "polygon", "rectangle", "brush", "eraser"] and {"wand", "livewire"} <= set(names)
    bar = next(tb for tb in w.findChildren(type(w.addToolBar("x"))) if tb.objectName() == "tools")
    on_bar = [a for a in bar.actions()]
    keys = [k for _, _, _, ks, _ in actions.all_rows() for k in ks]
    assert len(keys) == len(set(keys)), "a shortcut belongs to two actions"
    for t in tools.registered():
        a = w.acts[t.name]
        assert a in on_bar and a.isCheckable() and a.shortcut().toString() == t.shortcut
        key(w, getattr(Qt.Key, f"Key_{t.shortcut}"))
        assert w.canvas.tool is w.tools[t.name] and a.isChecked()
    help_rows = actions.ShortcutsDialog(w).table
    texts = [help_rows.item(i, 1).text() for i in range(help_rows.rowCount())]
    assert any(t.startswith("Tools: Magic wand") for t in texts) and any(t.startswith("Tools: Live wire") for t in texts)


def test_a_read_only_window_offers_no_tool_that_edits(qtbot, dual_window, dual_project):
    from workbench.main_window import MainWindow

    w = MainWindow(dual_project[0], "viewer")  # the project is open for editing in dual_window
    qtbot.addWidget(w)
    assert w.readonly
    for t in tools.registered():
        assert w.acts[t.name].isEnabled() == (not t.editing), t.name
    w.use_tool("wand")
    assert w.canvas.tool is w.tools["select"]
    w.close()


def test_wand_click_makes_an_undoable_region_of_the_object(dual_window, dual_project, qtbot):
    w, folder = dual_window, dual_project[0]
    key(w, Qt.Key.Key_G)
    assert w.canvas.tool.name == "wand"
    click(w, 220, 150)
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    r = stored_regions(folder)[0]
    truth = Patch(np.ones((100, 150), bool), 150, 100)
    assert iou(as_patch(r), truth) > 0.95 and r.source == "assisted:wand" and r.author == "tester"
    assert r.class_id == w.class_id and w.selected_region is not None and w.selected_region.id == r.id
    w.editing.undo()
    qtbot.waitUntil(lambda: stored_regions(folder) == [], timeout=10_000)


def test_wand_shift_adds_and_alt_takes_away_from_the_selected_mask(dual_window, dual_project, qtbot):
    w, (folder, disc) = dual_window, dual_project
    w.use_tool("wand")
    click(w, 220, 150)
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    click(w, 470, 300, mods=SHIFT)  # the disc joins the same region
    qtbot.waitUntil(lambda: as_patch(stored_regions(folder)[0]).area > 15000 + 0.9 * disc.sum(), timeout=10_000)
    assert len(stored_regions(folder)) == 1
    click(w, 470, 300, mods=ALT)  # and leaves it again
    qtbot.waitUntil(lambda: as_patch(stored_regions(folder)[0]).area < 15500, timeout=10_000)
    assert iou(as_patch(stored_regions(folder)[0]), Patch(np.ones((100, 150), bool), 150, 100)) > 0.95


def test_wand_drag_changes_the_tolerance_live(dual_window, dual_project, qtbot):
    w, folder = dual_window, dual_project[0]
    w.use_tool("wand")
    before = w.tools["wand"].tolerance
    drag(w, [(220, 150), (240, 150), (300, 150)])  # to the right: more tolerant
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    assert w.tools["wand"].tolerance > before
    assert "tolerance" in w.tool_label.text()


def test_live_wire_anchors_close_into_a_polygon_that_follows_the_disc(dual_window, dual_project, qtbot):
    w, (folder, disc) = dual_window, dual_project
    key(w, Qt.Key.Key_L)
    for x, y in [(470, 240), (530, 300), (470, 360), (410, 300)]:
        click(w, x, y)
        QTest.mouseMove(w.canvas.viewport(), vp(w, x + 5, y + 5))
    assert len(w.tools["livewire"].wire.anchors) == 4
    key(w, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    r = stored_regions(folder)[0]
    assert r.polygon is not None and r.source == "assisted:livewire"
    assert iou(as_patch(r), Patch(disc, 0, 0)) > 0.9  # four straight segments would give 0.64


class WandBackend:
    """A click backend without a model: the wand's area of the positive clicks less that of the negative
    ones. It stands for "another backend" (the interface the tool talks to), not for the click model, which
    tests/training/test_interactive.py trains and runs."""

    source = "wand-backend"

    def __init__(self, lookalike=None):
        self.calls, self.lookalike = [], lookalike  # a point the "model" also lights up, unasked

    def probabilities(self, signal, box, clicks):
        from workbench.assist import wand as W

        x0, y0, x1, y1 = box
        self.calls.append(list(clicks))
        out = np.zeros((y1 - y0, x1 - x0), np.float32)
        extra = [(self.lookalike[0] - x0, self.lookalike[1] - y0, True)] if self.lookalike else []
        for x, y, positive in extra + clicks:
            p = W.wand(signal, x + x0, y + y0)
            if p is not None:
                out[p.cut(box)] = 1.0 if positive else 0.0
        return out


def test_click_tool_left_adds_right_removes_enter_accepts(dual_window, dual_project, qtbot):
    w, folder = dual_window, dual_project[0]
    key(w, Qt.Key.Key_C)
    tool = w.tools["click"]
    assert w.canvas.tool is tool
    backend = WandBackend(lookalike=(470, 300))          # it also lights up the disc, which nobody clicked
    tool.use_backend(backend)
    click(w, 220, 150)                                   # the object
    qtbot.waitUntil(lambda: tool.session is not None and tool.session.patch is not None, timeout=5000)
    assert tool.session.patch.area == pytest.approx(15000, rel=0.05)  # the disc is left out
    (cx, cy, positive), = backend.calls[-1]  # (the viewport rounds a scan point to a screen pixel: ±1)
    assert positive and abs(cx + tool.session.box[0] - 220) <= 1 and abs(cy + tool.session.box[1] - 150) <= 1
    click(w, 220, 150, button=Qt.MouseButton.RightButton)  # "not this": nothing left
    assert tool.session.clicks[-1][2] is False and tool.session.patch is None
    key(w, Qt.Key.Key_Backspace)                         # take the negative back
    assert tool.session.patch is not None and len(tool.session.clicks) == 1
    assert stored_regions(folder) == []                  # nothing stored before Enter
    key(w, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    r = stored_regions(folder)[0]
    assert r.source == "assisted:wand-backend" and r.mask is not None and r.author == "tester"
    assert iou(as_patch(r), Patch(np.ones((100, 150), bool), 150, 100)) > 0.95
    w.editing.undo()
    qtbot.waitUntil(lambda: stored_regions(folder) == [], timeout=10_000)


def test_click_tool_without_a_model_says_how_to_get_one(dual_window, qtbot):
    w = dual_window
    w.use_tool("click")
    tool = w.tools["click"]
    qtbot.waitUntil(tool.ready, timeout=60_000)
    assert tool.backend is None and "no click model for this project" in tool.status()
    assert "configs/click_unet.yaml" in tool.status()
    click(w, 220, 150)  # a click is answered with the reason, not a traceback
    assert tool.session is None


def test_superpixel_brush_fills_to_the_objects_edges(dual_window, dual_project, qtbot):
    w, folder = dual_window, dual_project[0]
    w.viewing.fit()
    key(w, Qt.Key.Key_S)
    tool = w.tools["superpixel"]
    qtbot.waitUntil(tool.ready, timeout=60_000)
    w.brush_size = 4
    zigzag = [(160 + 130 * (k % 2), 110 + 8 * k) for k in range(11)]  # inside the object, never across its edge
    drag(w, zigzag)
    qtbot.waitUntil(lambda: len(stored_regions(folder)) == 1, timeout=10_000)
    r = stored_regions(folder)[0]
    truth = Patch(np.ones((100, 150), bool), 150, 100)
    got = as_patch(r)
    assert got.area > 5 * 4 * 130  # far more than the 4 px stroke itself
    assert (got.cut(truth.box) & truth.mask).sum() / got.area > 0.97  # and nothing beyond the object's edge
    assert iou(got, truth) > 0.8
