"""Display controls: mode, window/level with presets, invert, gamma, stripping, enhancement, overlay opacity."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QPushButton,
                               QSlider, QSpinBox, QWidget)

from workbench.render import MODES, Display

PRESETS = {"auto": None, "full range": (0.0, 1.0), "dense (cargo)": (0.0, 0.25), "thin (organics)": (0.45, 1.0)}


class DisplayPanel(QWidget):
    changed = Signal(object)           # Display
    opacity_changed = Signal(float)
    auto_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.display: Display | None = None
        self._busy = False
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.low = QSpinBox()
        self.high = QSpinBox()
        for s in (self.low, self.high):
            s.setRange(0, 65535)
            s.setKeyboardTracking(False)
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.invert = QCheckBox("invert")
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.2, 5.0)
        self.gamma.setSingleStep(0.1)
        self.gamma.setValue(1.0)
        self.strip = QComboBox()
        self.strip.addItems(["no stripping", "strip organic", "strip inorganic"])
        self.enhance = QCheckBox("local contrast")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        auto = QPushButton("auto")
        auto.clicked.connect(self.auto_requested.emit)
        wl = QHBoxLayout()
        wl.addWidget(self.low)
        wl.addWidget(self.high)
        wl.addWidget(auto)
        form = QFormLayout(self)
        form.addRow("view", self.mode)
        form.addRow("window", wl)
        form.addRow("preset", self.preset)
        form.addRow("gamma", self.gamma)
        form.addRow("", self.invert)
        form.addRow("material", self.strip)
        form.addRow("", self.enhance)
        form.addRow("overlay", self.opacity)
        for w in (self.mode, self.strip, self.preset):
            w.currentIndexChanged.connect(self._emit)
        for w in (self.low, self.high, self.gamma):
            w.valueChanged.connect(self._emit)
        for w in (self.invert, self.enhance):
            w.toggled.connect(self._emit)
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100))

    def show_display(self, d: Display) -> None:
        self._busy = True
        self.display = d
        self.mode.setCurrentText(d.mode)
        self.low.setMaximum(d.max_value)
        self.high.setMaximum(d.max_value)
        self.low.setValue(int(d.window[0]))
        self.high.setValue(int(d.window[1]))
        self.invert.setChecked(d.invert)
        self.gamma.setValue(d.gamma)
        self.strip.setCurrentIndex({None: 0, "organic": 1, "inorganic": 2}[d.strip])
        self.enhance.setChecked(d.enhance)
        self.preset.setCurrentIndex(0)
        self._busy = False

    def _emit(self) -> None:
        if self._busy or self.display is None:
            return
        lo, hi = float(self.low.value()), float(self.high.value())
        preset = PRESETS.get(self.preset.currentText())
        if preset is not None and self.sender() is self.preset:
            lo, hi = preset[0] * self.display.max_value, preset[1] * self.display.max_value
        d = self.display.change(mode=self.mode.currentText(), window=(lo, max(hi, lo + 1)),
                                invert=self.invert.isChecked(), gamma=round(self.gamma.value(), 2),
                                strip=[None, "organic", "inorganic"][self.strip.currentIndex()],
                                enhance=self.enhance.isChecked())
        self.show_display(d)
        self.changed.emit(d)
