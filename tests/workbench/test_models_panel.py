"""The Models panel with a real tiny registered model: versions, pre-label, accept above a score, the
uncertainty queue, and training a new version from the workbench (a real `xwb train` subprocess)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from datasets.project import Project
from tests.training.conftest import TINY
from tests.workbench.conftest import open_window

SOURCE = "model:bag-seg/1"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 12-scan synthetic project, 4 scans unlabelled (status new), and bag-seg v1 trained on the rest."""
    from datasets.synth.build import synth_project
    from training.loop.run import train

    proj = synth_project(tmp_path_factory.mktemp("models") / "bag", "baggage", 12, seed=5, size=(192, 256),
                         unlabelled=4)
    r = train(TINY, proj, ["optim.epochs=1", "eval.overlays=0"], quiet=True)
    assert r.version == "1"
    return proj


@pytest.fixture
def project(trained, tmp_path):
    dst = tmp_path / "bag"
    shutil.copytree(trained, dst)
    return dst


@pytest.fixture
def win(qtbot, project):
    w = open_window(qtbot, project, (1400, 900), timeout=20_000)
    with qtbot.waitSignal(w.models.versions_loaded, timeout=60_000):
        w.show_models()
    yield w
    w.close()


def unlabelled(folder) -> list[int]:
    with Project.open(folder, readonly=True) as p:
        return [r.id for r in p.store.images(status="new")]


def proposals(folder, image_id: int) -> list:
    with Project.open(folder, readonly=True) as p:
        return [r for r in p.store.regions(image_id) if r.state == "proposal"]


def run_job(qtbot, w, button, timeout=120_000):
    with qtbot.waitSignal(w.models.job_done, timeout=timeout) as sig:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return sig.args


def test_panel_lists_prelabels_this_scan_accepts_above_a_score_and_undoes(win, project, qtbot):
    w, m = win, win.models
    assert m.table.rowCount() == 1 and m.chosen().uri == "models:/bag-seg/1"
    assert m.table.item(0, 3).text() == "seg" and "val mIoU" in m.table.item(0, 5).text()
    assert len(m.table.item(0, 4).text()) == 12  # the dataset digest it was trained on
    target = unlabelled(project)[0]
    w.open_image(target)
    qtbot.waitUntil(lambda: w.canvas.scan_item is not None and w.image.id == target, timeout=20_000)
    m.min_score.setValue(0.0)
    what, res = run_job(qtbot, w, m.prelabel_scan)
    assert what == "prelabel" and res["scans"] == 1 and not res["cancelled"]
    props = proposals(project, target)
    assert props and len(props) == res["regions"] and {r.source for r in props} == {SOURCE}
    assert all(proposals(project, i) == [] for i in unlabelled(project) if i != target)  # this scan only
    qtbot.waitUntil(lambda: len(w.canvas.region_items) == len(props), timeout=10_000)  # the view follows
    scores = sorted(r.score for r in props)
    cut = scores[len(scores) // 2]
    m.accept_score.setValue(round(cut, 2))
    qtbot.mouseClick(m.accept_scan, Qt.MouseButton.LeftButton)
    with Project.open(project, readonly=True) as p:
        states = {r.id: r.state for r in p.store.regions(target)}
    for r in props:
        assert states[r.id] == ("accepted" if r.score >= round(cut, 2) else "proposal"), (r.score, cut)
    assert "accepted" in m.status.text()
    w.editing.undo()  # one step takes the whole batch back
    with Project.open(project, readonly=True) as p:
        assert {r.state for r in p.store.regions(target)} == {"proposal"}


def test_prelabel_listed_leaves_finished_scans_alone_and_cancel_stops_between_scans(win, project, qtbot):
    w, m = win, win.models
    m.min_score.setValue(0.0)
    what, res = run_job(qtbot, w, m.prelabel_list)
    todo = unlabelled(project)
    assert res["scans"] == len(todo) == 4 and res["total"] == 4
    with Project.open(project, readonly=True) as p:
        done = [r.id for r in p.store.images(status="done")]
    assert all(proposals(project, i) == [] for i in done)
    assert sum(len(proposals(project, i)) for i in todo) == res["regions"]

    # Cancel: the worker asks between scans; cancelling from the first progress report stops it early
    from training.inference.outputs import prelabel_scans
    from training.inference.predict import load_predictor
    from training.versions import tracking

    pred = load_predictor("models:/bag-seg/1", "cpu", tracking.default_uri(project))
    seen = []
    with Project.open(project) as p:
        recs = [p.store.image(i) for i in todo]
        out = prelabel_scans(pred, "model:bag-seg/9", p, recs, 0.0, progress=lambda d, t, line: seen.append(d),
                             cancelled=lambda: len(seen) >= 1)
    assert out["cancelled"] and out["scans"] == 1 and seen == [1]
    with Project.open(project, readonly=True) as p:
        by_scan = [[r for r in p.store.regions(i) if r.source == "model:bag-seg/9"] for i in todo]
    assert [bool(x) for x in by_scan] == [bool(by_scan[0]), False, False, False]


def test_uncertainty_queue_orders_the_unlabelled_scans_and_the_list_walks_it(win, project, qtbot):
    from training import tasks
    from training.inference.predict import load_predictor
    from training.versions import tracking

    w, m = win, win.models
    what, res = run_job(qtbot, w, m.rank_btn)
    assert what == "rank" and res["failed"] == 0
    pred = load_predictor("models:/bag-seg/1", "cpu", tracking.default_uri(project))
    with Project.open(project, readonly=True) as p:
        truth = {i: tasks.get("seg").uncertainty(pred.predict_scan(p.read_scan(p.store.image(i))).probs)
                 for i in unlabelled(project)}
    expected = sorted(truth, key=lambda i: -truth[i])
    assert len(set(np.round(list(truth.values()), 6))) == len(truth)  # distinct: the order means something
    order = w.images.order()
    assert order[: len(expected)] == expected            # most uncertain first, then the unranked scans
    assert set(order[len(expected):]).isdisjoint(expected)
    col = 5
    shown = [w.images.proxy.index(i, col).data() for i in range(len(expected))]
    assert shown == [f"{truth[i]:.3f}" for i in expected]
    w.open_image(order[0])
    qtbot.waitUntil(lambda: w.image.id == order[0], timeout=10_000)
    w.next_image()                                       # D walks the queue
    assert w.image.id == order[1]
    w.refresh()                                          # a store change reloads the list: still a queue
    assert w.images.order()[: len(expected)] == expected


def test_uncertainty_scores_sure_and_unsure_predictions():
    from training import tasks

    seg = tasks.get("seg")
    sure = np.zeros((3, 8, 8), np.float32)
    sure[0] = 1.0
    assert seg.uncertainty(sure) == 0.0
    flat = np.full((3, 8, 8), 1 / 3, np.float32)
    assert seg.uncertainty(flat) == pytest.approx(1.0, abs=1e-4)
    some = sure.copy()
    some[:, :2, :2] = 1 / 3                          # unsure about a corner only
    assert 0 < seg.uncertainty(some) < seg.uncertainty(flat)
    cls = tasks.get("cls")
    assert cls.uncertainty(np.array([0.5, 0.5])) == pytest.approx(1.0)
    assert cls.uncertainty(np.array([0.999, 0.001])) < 0.02


def test_versions_and_queue_commands(trained, capsys):
    from workbench.cli import main  # in process: the entry point's own argument handling and printing

    assert main(["versions", "--project", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "bag-seg" in out and "val mIoU" in out
    assert main(["queue", "models:/bag-seg/1", "--project", str(trained), "--limit", "2"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(rows) == 2 and float(rows[0].split()[0]) >= float(rows[1].split()[0])
    assert main(["queue", "models:/bag-seg/7", "--project", str(trained)]) == 1  # one line, no traceback
    err = capsys.readouterr().err
    assert "bag-seg has no version 7" in err and "Traceback" not in err


def test_train_from_the_panel_streams_the_log_and_lists_the_new_version(win, project, qtbot):
    m = win.models
    run_job(qtbot, win, m.rank_btn)  # a queue is shown: the new version will rank it again
    m.set_recipe(TINY)
    m.overrides.setText("optim.epochs=1 eval.overlays=0")
    assert m.train_btn.isEnabled() and not m.stop_btn.isEnabled()
    with qtbot.waitSignal(m.training_ended, timeout=300_000) as sig:
        qtbot.mouseClick(m.train_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: m.stop_btn.isEnabled(), timeout=5000)
    assert sig.args == [0], m.log.toPlainText()[-2000:]
    log = m.log.toPlainText()
    assert "epoch 1/1" in log and "registered bag-seg version 2" in log
    assert m.train_progress.format() == "registered bag-seg/2"
    reranked = []
    m.job_done.connect(lambda what, res: reranked.append(res.get("uri")) if what == "rank" else None)
    qtbot.waitUntil(lambda: m.table.rowCount() == 2 and m.chosen() is not None and m.chosen().version == "2",
                    timeout=60_000)
    assert not m.stop_btn.isEnabled() and m.train_btn.isEnabled()
    qtbot.waitUntil(lambda: reranked == ["models:/bag-seg/2"], timeout=120_000)
    assert win.images.model.ranked_by == "models:/bag-seg/2"


def test_read_only_window_cannot_prelabel_or_train(win, project, qtbot):
    from workbench.main_window import MainWindow

    ro = MainWindow(project, "viewer")  # the first window holds the editor lock
    qtbot.addWidget(ro)
    try:
        assert ro.readonly
        with qtbot.waitSignal(ro.models.versions_loaded, timeout=60_000):
            ro.show()
            ro.show_models()
        m = ro.models
        assert m.chosen() is not None
        assert not m.prelabel_scan.isEnabled() and not m.accept_list.isEnabled() and not m.train_btn.isEnabled()
        assert m.rank_btn.isEnabled()  # ranking writes nothing
    finally:
        ro.close()
