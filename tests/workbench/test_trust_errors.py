"""The workbench's failures reach the annotator (issue 11, continued): a busy store, a failed save, an exception
in a slot, a close in the middle of a load. The screen never shows an edit the store does not hold."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.conftest import WriteLock
from tests.workbench.conftest import drag
from tests.workbench.test_trust import CTRL, image, open_window, regions


# -- errors reach the annotator; the screen never shows an unsaved edit ------------------------------------
def test_a_busy_store_is_shown_and_nothing_unsaved_is_shown(window, known_project, qtbot):
    w = window
    iid = w.image.id
    w.project.store.set_busy_timeout(0.1)
    other = WriteLock(known_project)
    other.take()                                      # another writer holds the write lock
    w.use_tool("rectangle")
    drag(w, [(20, 30), (80, 90)])
    assert w.alert_bar.isVisibleTo(w) and "busy" in w.alert.text()
    assert w.canvas.region_items == [] and regions(known_project, iid) == []
    other.release()
    drag(w, [(20, 30), (80, 90)])
    assert len(regions(known_project, iid)) == 1 and len(w.canvas.region_items) == 1
    assert not w.alert_bar.isVisibleTo(w)
    other.take()
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)      # undo cannot be saved: it is not shown either
    assert w.alert_bar.isVisibleTo(w)
    assert len(w.canvas.region_items) == 1 and len(regions(known_project, iid)) == 1
    other.release()
    other.close()
    QTest.keyClick(w.canvas, Qt.Key.Key_Z, CTRL)      # the same undo, once the lock is free
    assert w.canvas.region_items == [] and regions(known_project, iid) == []


def test_a_failed_comment_save_keeps_the_text_and_retries(window, known_project):
    w = window
    iid = w.image.id
    w.project.store.set_busy_timeout(0.1)
    other = WriteLock(known_project)
    other.take()
    w.panel.comment.setFocus()
    QTest.keyClicks(w.panel.comment, "check the corner")
    w.panel.flush()
    assert w.alert_bar.isVisibleTo(w) and image(known_project, iid).comment == ""
    assert w.panel.comment.toPlainText() == "check the corner"   # the annotator's text is not thrown away
    other.release()
    other.close()
    w.panel.flush()
    assert image(known_project, iid).comment == "check the corner"


def test_excepthook_logs_the_traceback_and_tells_the_annotator(qtbot, tmp_path, monkeypatch):
    from workbench import app

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = app.setup_logging()
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError as e:
        app.excepthook(type(e), e, e.__traceback__)
    boxes = [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()]
    assert any("boom in a slot" in b.text() and str(path) in b.text() for b in boxes)
    for h in __import__("logging").getLogger().handlers:
        h.flush()
    text = path.read_text()
    assert "Traceback" in text and "RuntimeError: boom in a slot" in text
    for b in boxes:
        b.close()


def test_closing_while_a_scan_loads_raises_nothing(qtbot, known_project):
    w = open_window(qtbot, known_project)
    for iid in w.images.order():  # loads in flight
        w.open_image(iid)
    w.refresh()
    w.close()                     # waits for the loader's workers: their results are queued now
    QApplication.processEvents()  # ... and delivered after the store closed: ignored, no exception
    QApplication.processEvents()
