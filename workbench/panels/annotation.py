"""Class palette, region list and the image panel (status, tags, comment, manifest)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from datasets.stores import STATUSES


def swatch(rgb) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class Palette(QListWidget):
    """Taxonomy classes with colours and hotkeys; the current one is what tools draw."""

    chosen = Signal(int)  # class id

    def __init__(self, taxonomy, parent=None):
        super().__init__(parent)
        for c in taxonomy.classes:
            it = QListWidgetItem(swatch(c.rgb), f"{c.hotkey + '  ' if c.hotkey else ''}{c.name}")
            it.setData(Qt.ItemDataRole.UserRole, c.id)
            it.setToolTip(c.description)
            self.addItem(it)
        self.currentItemChanged.connect(lambda cur, _: cur and self.chosen.emit(cur.data(Qt.ItemDataRole.UserRole)))
        self.setCurrentRow(0)

    def choose(self, class_id: int) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == class_id:
                self.setCurrentRow(i)


class RegionList(QWidget):
    """Regions of the image: class, state, source, area, score; select, hide, accept, delete, change class.

    It mirrors the window's one selection (``show_selection``); its class box shows the selected
    region's class and changes it.
    """

    selected = Signal(object)         # region id, or None
    hide_toggled = Signal(int, bool)  # region id, hidden
    accept = Signal()
    delete = Signal()
    reclass = Signal(int)             # class id for the selected region

    def __init__(self, taxonomy, parent=None):
        super().__init__(parent)
        self.tax = taxonomy
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["show", "class", "state", "source", "area", "score"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        for j in range(6):
            head.setSectionResizeMode(j, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # the long one (model:NAME/V) gives way
        self.table.itemSelectionChanged.connect(self._sel)
        self.table.itemChanged.connect(self._changed)
        self.cls = QComboBox()
        self.cls.setToolTip("class of the selected region")
        for c in taxonomy.classes:
            self.cls.addItem(swatch(c.rgb), c.name, c.id)
        self.cls.activated.connect(lambda i: self.reclass.emit(self.cls.itemData(i)))
        self.acc, self.dele = QPushButton("accept"), QPushButton("delete")
        self.acc.clicked.connect(self.accept.emit)
        self.dele.clicked.connect(self.delete.emit)
        row = QHBoxLayout()
        row.addWidget(self.cls, 1)
        row.addWidget(self.acc)
        row.addWidget(self.dele)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table)
        lay.addLayout(row)
        self._ids: list[int] = []
        self._loading = False
        self.readonly = False
        self.show_selection(None)

    def set_readonly(self, ro: bool) -> None:
        self.readonly = ro
        self.show_selection(None)

    def show_regions(self, regions, hidden: set[int]) -> None:
        self._loading = True
        self.table.clearSelection()
        self.table.setRowCount(len(regions))
        self._ids = [r.id for r in regions]
        for i, r in enumerate(regions):
            c = self.tax.by_id(r.class_id) if r.class_id in self.tax.ids else None
            show = QTableWidgetItem()
            show.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            show.setCheckState(Qt.CheckState.Unchecked if r.id in hidden else Qt.CheckState.Checked)
            self.table.setItem(i, 0, show)
            label = c.name if c else ("don't care" if r.ignore else f"#{r.class_id}")
            if r.ignore and c:
                label += " (don't care)"
            name = QTableWidgetItem(swatch(c.rgb) if c else QIcon(), label)
            self.table.setItem(i, 1, name)
            for j, v in enumerate([r.state, r.source, f"{r.area():.0f}",
                                   "" if r.score is None else f"{r.score:.2f}"], start=2):
                it = QTableWidgetItem(v)
                it.setToolTip(f"{r.source} · by {r.author or '?'}" +
                              (f" · {r.state} by {r.decided_by}" if r.decided_by else ""))
                self.table.setItem(i, j, it)
        self._loading = False

    def show_selection(self, region) -> None:
        """Highlight the row of ``region`` (None: no row) and show its class; signals stay quiet."""
        self._loading = True
        try:
            if region is None or region.id not in self._ids:
                self.table.clearSelection()
            else:
                row = self._ids.index(region.id)
                self.table.selectRow(row)
                self.table.scrollToItem(self.table.item(row, 1))
            if region is not None:
                i = self.cls.findData(region.class_id)
                if i >= 0:
                    self.cls.setCurrentIndex(i)
            editable = region is not None and not self.readonly
            self.cls.setEnabled(editable)
            self.acc.setEnabled(editable and region.state != "accepted")
            self.dele.setEnabled(editable and region.state != "rejected")
            self.dele.setText("reject" if region is not None and region.state == "proposal" else "delete")
        finally:
            self._loading = False

    def _sel(self) -> None:
        if self._loading:
            return
        rows = {i.row() for i in self.table.selectedItems()}
        self.selected.emit(self._ids[min(rows)] if rows else None)

    def _changed(self, item) -> None:
        if not self._loading and item.column() == 0:
            self.hide_toggled.emit(self._ids[item.row()], item.checkState() == Qt.CheckState.Unchecked)


class ImagePanel(QWidget):
    """Status, image tags (with model suggestions), reviewer comment and declared manifest.

    Typed fields are saved after a pause and, whatever the timing, by ``flush()``, which the window calls
    before anything else touches the image (navigation, Ctrl+D, another field, refresh, close). Showing a
    record never overwrites text typed for the same image that has not been saved yet.
    """

    status_set = Signal(str)
    tags_set = Signal(list)
    comment_set = Signal(str)
    manifest_set = Signal(list)

    def __init__(self, taxonomy, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QComboBox()
        self.status.addItems(list(STATUSES))
        self.tags = QListWidget()
        for t in taxonomy.tags:
            it = QListWidgetItem(t)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Unchecked)
            it.setData(Qt.ItemDataRole.UserRole, t)
            self.tags.addItem(it)
        self.comment = QPlainTextEdit()
        self.comment.setPlaceholderText("reviewer comment")
        self.comment.setMaximumHeight(70)
        self.comment.setTabChangesFocus(True)
        self.manifest = QLineEdit()
        self.manifest.setPlaceholderText("declared goods, comma separated")
        form = QFormLayout(self)
        form.addRow(self.title)
        form.addRow("status", self.status)
        form.addRow("tags", self.tags)
        form.addRow("comment", self.comment)
        form.addRow("manifest", self.manifest)
        self.rec = None          # the record shown (what the store held when last shown)
        self._loading = False
        self._flushing = False
        self._comment_timer = QTimer(self, singleShot=True, interval=600)
        self._comment_timer.timeout.connect(self.flush)
        self.status.activated.connect(lambda _: self.status_set.emit(self.status.currentText()))
        self.tags.itemChanged.connect(self._tags)
        self.comment.textChanged.connect(lambda: None if self._loading else self._comment_timer.start())
        self.manifest.editingFinished.connect(self.flush)

    def set_readonly(self, ro: bool) -> None:
        for w in (self.status, self.tags, self.comment, self.manifest):
            w.setEnabled(not ro)

    def escape_to(self, widget) -> None:
        """Esc in the comment or manifest hands the keyboard to ``widget`` (the canvas, where single-key
        shortcuts live)."""
        self._escape = _FocusOnEscape(widget)
        self.comment.installEventFilter(self._escape)
        self.manifest.installEventFilter(self._escape)

    def _manifest_items(self) -> list[str]:
        return [m.strip() for m in self.manifest.text().split(",") if m.strip()]

    def pending(self) -> dict:
        """Typed fields that differ from the record shown: edits not saved yet."""
        if self.rec is None or not self.comment.isEnabled():
            return {}
        out = {}
        if self.comment.toPlainText() != self.rec.comment:
            out["comment"] = self.comment.toPlainText()
        if sorted(set(self._manifest_items())) != sorted(self.rec.manifest):
            out["manifest"] = self._manifest_items()
        return out

    def show_image(self, rec, suggestions: list[tuple[str, str, float]]) -> None:
        same = self.rec is not None and self.rec.id == rec.id
        unsaved = self.pending() if same else {}
        self._loading = True
        self.title.setText(f"{Path(rec.path).name}  {rec.width}×{rec.height} {rec.bit_depth}-bit {rec.layout}")
        self.title.setToolTip(rec.path)
        self.status.setCurrentText(rec.status)
        best = {}
        for tag, source, score in suggestions:
            best.setdefault(tag, (score, source))
        for i in range(self.tags.count()):
            it = self.tags.item(i)
            t = it.data(Qt.ItemDataRole.UserRole)
            it.setCheckState(Qt.CheckState.Checked if t in rec.tags else Qt.CheckState.Unchecked)
            it.setText(f"{t}   (suggested {best[t][0]:.2f})" if t in best and t not in rec.tags else t)
            it.setToolTip(best[t][1] if t in best else "")
        if "comment" not in unsaved and self.comment.toPlainText() != rec.comment:
            self.comment.setPlainText(rec.comment)
        if "manifest" not in unsaved:
            self.manifest.setText(", ".join(rec.manifest))
        if not same:
            self._comment_timer.stop()
        self.rec = rec
        self._loading = False

    def flush(self) -> None:
        """Save every typed field that differs from the store now."""
        self._comment_timer.stop()
        if self._flushing:
            return
        self._flushing = True
        try:
            todo = self.pending()
            if "comment" in todo:
                self.comment_set.emit(todo["comment"])
            if "manifest" in todo:
                self.manifest_set.emit(todo["manifest"])
        finally:
            self._flushing = False

    def _tags(self, _item) -> None:
        if self._loading:
            return
        self.tags_set.emit([self.tags.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.tags.count())
                            if self.tags.item(i).checkState() == Qt.CheckState.Checked])


class _FocusOnEscape(QObject):
    def __init__(self, target):
        super().__init__(target)
        self.target = target

    def eventFilter(self, obj, e) -> bool:
        if e.type() == QEvent.Type.KeyPress and e.key() == Qt.Key.Key_Escape:
            self.target.setFocus()
            return True
        return False
