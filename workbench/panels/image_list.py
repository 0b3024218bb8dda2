"""The image list: thumbnail, file, status, regions, split, uncertainty; filters; the order next/previous walks.

The uncertainty column is empty until a model ranks the unlabelled scans (Models panel, "What to label
next"); sorting by it walks the queue, most uncertain first."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLineEdit, QTableView, QVBoxLayout, QWidget

COLS = ["", "file", "status", "regions", "split", "uncert."]
SPLIT, UNCERTAINTY = 4, 5
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # what a column sorts by (numbers as numbers, unranked last)
STATUS_COLORS = {"new": "#888888", "in_progress": "#d9a400", "done": "#2e9e44", "reviewed": "#2f6fd6",
                 "rejected": "#c23b3b"}


class ImageModel(QAbstractTableModel):
    def __init__(self, root: Path | None = None):
        super().__init__()
        self.root = root              # image root: tooltips show the full path
        self.rows: list = []          # ImageRecord
        self.counts: dict[int, int] = {}
        self.classes: dict[int, set[int]] = {}
        self.errors: dict[int, str] = {}
        self.thumbs: dict[int, QPixmap] = {}
        self.uncertainty: dict[int, float] = {}   # image id -> the ranking model's uncertainty
        self.ranked_by = ""                        # which model ranked them (the column's tooltip)

    def load(self, records, counts, classes) -> None:
        self.beginResetModel()
        self.rows, self.counts, self.classes = list(records), counts, classes
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLS)

    def headerData(self, s, o, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and o == Qt.Orientation.Horizontal:
            return COLS[s]
        if role == Qt.ItemDataRole.ToolTipRole and o == Qt.Orientation.Horizontal and s == UNCERTAINTY:
            return "the ranking model's uncertainty about the scan: label the most uncertain first"
        return None

    def set_uncertainty(self, values: dict[int, float], model: str) -> None:
        self.uncertainty, self.ranked_by = dict(values), model
        if self.rows:
            self.dataChanged.emit(self.index(0, UNCERTAINTY), self.index(len(self.rows) - 1, UNCERTAINTY))

    def data(self, idx, role=Qt.ItemDataRole.DisplayRole):
        rec = self.rows[idx.row()]
        c = idx.column()
        err = self.errors.get(rec.id)
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 1:
                return Path(rec.path).name
            if c == 2:
                return "error" if err else rec.status
            if c == 3:
                return self.counts.get(rec.id, 0)
            if c == 4:
                return rec.split or "-"
            if c == UNCERTAINTY:
                u = self.uncertainty.get(rec.id)
                return "" if u is None else f"{u:.3f}"
        if role == SORT_ROLE:
            if c == UNCERTAINTY:
                return self.uncertainty.get(rec.id, -1.0)
            return self.data(idx)
        if role == Qt.ItemDataRole.DecorationRole and c == 0:
            return self.thumbs.get(rec.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            if c == UNCERTAINTY:
                return f"uncertainty of {self.ranked_by} (0 sure … 1 no idea)" if rec.id in self.uncertainty else \
                    "not ranked: Models panel → What to label next"
            return err or str(self.root / rec.path if self.root is not None else rec.path)
        if role == Qt.ItemDataRole.ForegroundRole and c == 2:
            return QColor("#c23b3b") if err else QColor(STATUS_COLORS.get(rec.status, "#000"))
        if role == Qt.ItemDataRole.UserRole:
            return rec.id
        return None

    def row_of(self, image_id: int) -> int:
        for i, r in enumerate(self.rows):
            if r.id == image_id:
                return i
        return -1

    def set_thumb(self, image_id: int, pix: QPixmap) -> None:
        self.thumbs[image_id] = pix
        i = self.row_of(image_id)
        if i >= 0:
            self.dataChanged.emit(self.index(i, 0), self.index(i, 0))

    def set_regions(self, image_id: int, count: int, classes: set[int]) -> None:
        self.counts[image_id] = count
        self.classes[image_id] = classes
        i = self.row_of(image_id)
        if i >= 0:
            self.dataChanged.emit(self.index(i, 3), self.index(i, 3))

    def set_error(self, image_id: int, msg: str) -> None:
        self.errors[image_id] = msg
        i = self.row_of(image_id)
        if i >= 0:
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLS) - 1))


class Filter(QSortFilterProxyModel):
    def __init__(self, model: ImageModel):
        super().__init__()
        self.m = model
        self.setSourceModel(model)
        self.status = self.split = self.tag = ""
        self.class_id = 0
        self.text = ""

    def filterAcceptsRow(self, row: int, parent) -> bool:
        rec = self.m.rows[row]
        if self.status and rec.status != self.status:
            return False
        if self.split and (rec.split or "") != self.split:
            return False
        if self.tag and self.tag not in rec.tags:
            return False
        if self.class_id and self.class_id not in self.m.classes.get(rec.id, set()):
            return False
        return not self.text or self.text.lower() in rec.path.lower()

    def lessThan(self, a, b) -> bool:
        va, vb = self.m.data(a, SORT_ROLE), self.m.data(b, SORT_ROLE)
        try:
            return va < vb
        except TypeError:
            return str(va) < str(vb)


class ImageListPanel(QWidget):
    activated = Signal(int)  # image id

    def __init__(self, taxonomy, root: Path | None = None, parent=None):
        super().__init__(parent)
        self.current: int | None = None   # the image open in the window
        self.model = ImageModel(root)
        self.proxy = Filter(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(36)
        self.view.setColumnWidth(0, 52)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # baggage_7_0…_12.tiff: the ends differ
        self.view.setWordWrap(False)
        head = self.view.horizontalHeader()
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the name gives way, elided in the middle
        for j in (2, 3, 4, UNCERTAINTY):
            head.setSectionResizeMode(j, QHeaderView.ResizeMode.ResizeToContents)
        self.view.setColumnHidden(UNCERTAINTY, True)  # shown once a model has ranked the scans
        self.sorted_by: tuple[int, Qt.SortOrder] | None = None  # a column the annotator (or a ranking) chose
        self.proxy.sort(-1)
        head.sortIndicatorChanged.connect(self._sort_chosen)
        self.view.clicked.connect(lambda i: self.activated.emit(self.proxy.data(i, Qt.ItemDataRole.UserRole)))
        self.status = QComboBox()
        self.status.addItems(["any status", "new", "in_progress", "done", "reviewed", "rejected"])
        self.split = QComboBox()
        self.split.addItems(["any split", "train", "val", "test"])
        self.cls = QComboBox()
        self.cls.addItem("any class", 0)
        for c in taxonomy.classes:
            self.cls.addItem(c.name, c.id)
        self.tag = QComboBox()
        self.tag.addItems(["any tag", *taxonomy.tags])
        self.text = QLineEdit()
        self.text.setPlaceholderText("file name contains…")
        for w in (self.status, self.split, self.cls, self.tag):
            w.currentIndexChanged.connect(self._refilter)
        self.text.textChanged.connect(self._refilter)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(self.status)
        row1.addWidget(self.split)
        row2.addWidget(self.cls)
        row2.addWidget(self.tag)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.text)
        lay.addWidget(self.view)

    def _refilter(self) -> None:
        p = self.proxy
        new_api = hasattr(p, "beginFilterChange")  # Qt 6.9+; invalidateFilter() is deprecated there
        if new_api:
            p.beginFilterChange()
        p.status = "" if self.status.currentIndex() == 0 else self.status.currentText()
        p.split = "" if self.split.currentIndex() == 0 else self.split.currentText()
        p.tag = "" if self.tag.currentIndex() == 0 else self.tag.currentText()
        p.class_id = self.cls.currentData() or 0
        p.text = self.text.text()
        p.endFilterChange() if new_api else p.invalidateFilter()
        self.highlight(self.current)

    def _sort_chosen(self, column: int, order: Qt.SortOrder) -> None:
        self.sorted_by = (column, order) if column >= 0 else None

    def resort(self) -> None:
        """After a reload: the chosen sort (the uncertainty queue stays a queue), else the project's order."""
        if self.sorted_by is None:
            self.proxy.sort(-1)
        else:
            self.proxy.sort(*self.sorted_by)

    def show_uncertainty(self, values: dict[int, float], model: str) -> None:
        """Fill the uncertainty column and sort by it, most uncertain first: next/previous walk the queue."""
        self.model.set_uncertainty(values, model)
        self.view.setColumnHidden(UNCERTAINTY, False)
        self.view.setColumnHidden(SPLIT, True)  # the queue is of unlabelled scans; the file name needs the room
        self.view.sortByColumn(UNCERTAINTY, Qt.SortOrder.DescendingOrder)
        self.highlight(self.current)

    def order(self) -> list[int]:
        """Image ids in the order shown (filtered and sorted)."""
        return [self.proxy.data(self.proxy.index(i, 0), Qt.ItemDataRole.UserRole) for i in range(self.proxy.rowCount())]

    def highlight(self, image_id: int | None) -> None:
        """Highlight the open image's row; no row at all when the filter hides it (never another one)."""
        self.current = image_id
        r = self.model.row_of(image_id) if image_id is not None else -1
        idx = self.proxy.mapFromSource(self.model.index(r, 1)) if r >= 0 else None
        if idx is not None and idx.isValid():
            self.view.selectRow(idx.row())
            self.view.scrollTo(idx)
        else:
            self.view.clearSelection()
            self.view.setCurrentIndex(self.proxy.index(-1, -1))
