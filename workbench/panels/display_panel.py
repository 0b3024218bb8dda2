"""Display controls: mode, window/level with presets, invert, gamma, stripping, enhancement, overlay opacity."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from workbench.render import MODES, Display

# window presets as fractions of the scan's full range; "auto" asks the window for a histogram-based window
PRESETS = {"custom": None, "auto": None, "full range": (0.0, 1.0), "dense (cargo)": (0.0, 0.25),
           "thin (organics)": (0.45, 1.0)}


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
        for s, what in ((self.low, "min "), (self.high, "max ")):
            s.setRange(0, 65535)
            s.setKeyboardTracking(False)
            s.setPrefix(what)
        self.low.setToolTip("window: the raw value shown black (white when inverted)")
        self.high.setToolTip("window: the raw value shown white (black when inverted)")
        self._auto: tuple[float, float] | None = None  # the window "auto" gave, while it is unchanged
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

    def set_modes(self, modes: tuple[str, ...]) -> None:
        """Offer only the views this scan has (no material colour for an RGB picture)."""
        if tuple(self.mode.itemText(i) for i in range(self.mode.count())) == tuple(modes):
            return
        self._busy = True
        self.mode.clear()
        self.mode.addItems(list(modes))
        self._busy = False

    def show_display(self, d: Display, preset: str | None = None) -> None:
        """Show ``d``; the preset box names the preset the window matches ("custom" when none does)."""
        self._busy = True
        if preset == "auto":
            self._auto = tuple(d.window)
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
        self.preset.setCurrentText(self._preset_of(d))
        self._busy = False

    def _preset_of(self, d: Display) -> str:
        if self._auto is not None and tuple(d.window) == self._auto:
            return "auto"
        tol = 0.002 * d.max_value
        for name, frac in PRESETS.items():
            if frac is not None and abs(d.window[0] - frac[0] * d.max_value) <= tol \
                    and abs(d.window[1] - frac[1] * d.max_value) <= tol:
                return name
        return "custom"

    def _emit(self) -> None:
        if self._busy or self.display is None:
            return
        if self.sender() is self.preset and self.preset.currentText() == "auto":
            self.auto_requested.emit()
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
