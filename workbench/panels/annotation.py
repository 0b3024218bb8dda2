"""Class palette, region list and the image panel (status, tags, comment, manifest)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from datasets.store import STATUSES


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
    """Regions of the image: class, state, source, area, score; select, hide, accept, delete, change class."""

    selected = Signal(int)            # region id (or -1)
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
        self.table.itemSelectionChanged.connect(self._sel)
        self.table.itemChanged.connect(self._changed)
        self.cls = QComboBox()
        for c in taxonomy.classes:
            self.cls.addItem(swatch(c.rgb), c.name, c.id)
        self.cls.activated.connect(lambda i: self.reclass.emit(self.cls.itemData(i)))
        acc, dele = QPushButton("accept"), QPushButton("delete")
        acc.clicked.connect(self.accept.emit)
        dele.clicked.connect(self.delete.emit)
        row = QHBoxLayout()
        row.addWidget(self.cls)
        row.addWidget(acc)
        row.addWidget(dele)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table)
        lay.addLayout(row)
        self._ids: list[int] = []
        self._loading = False

    def show_regions(self, regions, hidden: set[int], selected: int | None) -> None:
        self._loading = True
        self.table.setRowCount(len(regions))
        self._ids = [r.id for r in regions]
        for i, r in enumerate(regions):
            c = self.tax.by_id(r.class_id) if r.class_id in self.tax.ids else None
            show = QTableWidgetItem()
            show.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            show.setCheckState(Qt.CheckState.Unchecked if r.id in hidden else Qt.CheckState.Checked)
            self.table.setItem(i, 0, show)
            name = QTableWidgetItem(swatch(c.rgb) if c else QIcon(), c.name if c else f"#{r.class_id}")
            self.table.setItem(i, 1, name)
            for j, v in enumerate([r.state, r.source, f"{r.area():.0f}",
                                   "" if r.score is None else f"{r.score:.2f}"], start=2):
                self.table.setItem(i, j, QTableWidgetItem(v))
            if r.id == selected:
                self.table.selectRow(i)
        self.table.resizeColumnsToContents()
        self._loading = False

    def _sel(self) -> None:
        if self._loading:
            return
        rows = {i.row() for i in self.table.selectedItems()}
        self.selected.emit(self._ids[min(rows)] if rows else -1)

    def _changed(self, item) -> None:
        if not self._loading and item.column() == 0:
            self.hide_toggled.emit(self._ids[item.row()], item.checkState() == Qt.CheckState.Unchecked)


class ImagePanel(QWidget):
    """Status, image tags (with model suggestions), reviewer comment and declared manifest."""

    status_set = Signal(str)
    tags_set = Signal(list)
    comment_set = Signal(str)
    manifest_set = Signal(list)

    def __init__(self, taxonomy, parent=None):
        super().__init__(parent)
        self.title = QLabel()
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
        self.manifest = QLineEdit()
        self.manifest.setPlaceholderText("declared goods, comma separated")
        form = QFormLayout(self)
        form.addRow(self.title)
        form.addRow("status", self.status)
        form.addRow("tags", self.tags)
        form.addRow("comment", self.comment)
        form.addRow("manifest", self.manifest)
        self._loading = False
        self._comment_timer = QTimer(self, singleShot=True, interval=600)
        self._comment_timer.timeout.connect(lambda: self.comment_set.emit(self.comment.toPlainText()))
        self.status.activated.connect(lambda _: self.status_set.emit(self.status.currentText()))
        self.tags.itemChanged.connect(self._tags)
        self.comment.textChanged.connect(lambda: None if self._loading else self._comment_timer.start())
        self.manifest.editingFinished.connect(
            lambda: self.manifest_set.emit([m.strip() for m in self.manifest.text().split(",") if m.strip()]))

    def show_image(self, rec, suggestions: list[tuple[str, str, float]]) -> None:
        self._loading = True
        self.title.setText(f"<b>{Path(rec.path).name}</b> {rec.width}×{rec.height} {rec.bit_depth}-bit {rec.layout}")
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
        if self.comment.toPlainText() != rec.comment:
            self.comment.setPlainText(rec.comment)
        self.manifest.setText(", ".join(rec.manifest))
        self._loading = False

    def flush(self) -> None:
        """Write a pending comment now (before switching images)."""
        if self._comment_timer.isActive():
            self._comment_timer.stop()
            self.comment_set.emit(self.comment.toPlainText())

    def _tags(self, _item) -> None:
        if self._loading:
            return
        self.tags_set.emit([self.tags.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.tags.count())
                            if self.tags.item(i).checkState() == Qt.CheckState.Checked])
