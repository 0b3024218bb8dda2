"""The red bar above the canvas that says an edit was not saved (dismissable; hidden by the next success)."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class AlertBar(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("background:#c23b3b")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setStyleSheet("background:#c23b3b;color:white;padding:6px;font-weight:bold")
        dismiss = QPushButton("×")
        dismiss.setFixedWidth(28)
        dismiss.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 4, 0)
        row.addWidget(self.label, 1)
        row.addWidget(dismiss)
        self.hide()

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.show()
