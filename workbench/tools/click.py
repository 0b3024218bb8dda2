"""Click-to-segment (C): left click "this is the object", right click "this is not"; the mask follows each
click; Enter accepts it as an ordinary editable mask region credited to the model (source
``assisted:model:NAME/VERSION``), Backspace takes back the last click, Esc drops the object.

The backend (``workbench/assist/interactive.py``) is the project's click model by default, loaded in the
background when the tool is chosen; another backend is one object with ``probabilities`` and ``source``.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtGui import QPainterPath

from workbench.assist.interactive import ClickBackend, ClickSession
from workbench.tools.base import StepTool, class_name, register
from workbench.tools.masks import Preview, commit, patch_path

_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xwb-click-model")


@register
class ClickTool(StepTool):
    name, shortcut, label = "click", "C", "click"
    text = "Click-to-segment with the project's model (right click: not this; Enter accepts)"

    def __init__(self, editor):
        super().__init__(editor)
        self.backend: ClickBackend | None = None
        self._loading: Future | None = None
        self.session: ClickSession | None = None
        self.preview: Preview | None = None
        self.error = ""

    # -- the backend
    def use_backend(self, backend: ClickBackend) -> None:
        """Another model (or another kind of backend) for this window."""
        self.backend, self._loading, self.error = backend, None, ""

    def activate(self) -> None:
        if self.backend is None and self._loading is None and not self.ed.readonly:
            from workbench.click_model import ModelBackend

            p = self.ed.project
            self._loading = _loader.submit(ModelBackend, p.folder, p.name)

    def ready(self) -> bool:
        """True once the backend can answer (or failed, with ``error`` saying why)."""
        if self.backend is None and self._loading is not None and self._loading.done():
            try:
                self.backend = self._loading.result()
            except Exception as e:  # no model registered, a version that does not load: said, not raised
                self.error = str(e).splitlines()[0] if str(e) else type(e).__name__
            self._loading = None
        return self.backend is not None or bool(self.error)

    def status(self) -> str:
        if not self.ready():
            return f"click · {class_name(self.ed)} · loading the click model…"
        if self.backend is None:
            return f"click · {self.error}"
        n = len(self.session.clicks) if self.session else 0
        ms = f" · {self.session.seconds * 1000:.0f} ms" if self.session and self.session.clicks else ""
        return (f"click · {class_name(self.ed)} · {self.backend.source} · {n} clicks{ms} "
                "(right click: not this; Enter accepts)")

    # -- gestures
    def _click(self, p, positive: bool) -> None:
        sig = self.ed.scan_signal()
        if self.ed.readonly or self.ed.image is None or sig is None:
            return
        if not self.ready() or self.backend is None:
            self.ed.message(self.status())
            return
        if self.session is None or self.session.signal is not sig:
            self.cancel()
            self.session = ClickSession(sig, self.backend)
            self.preview = Preview(self.view, self.ed.class_color())
        try:
            patch = self.session.add(p.x(), p.y(), positive)
        except Exception as e:  # a scan unlike the model's training scans: one line, the object kept
            self.session.clicks.pop()
            self.ed.message(str(e).splitlines()[0] if str(e) else type(e).__name__)
            return
        self._show(patch)

    def _show(self, patch) -> None:
        if self.preview is not None:
            self.preview.show(patch_path(patch) if patch is not None else QPainterPath())
        self.ed.message(self.status(), 4000)

    def press(self, p, e) -> None:
        self._click(p, True)

    def right_click(self, p, e) -> bool:
        self._click(p, False)
        return True

    def busy(self) -> bool:
        return self.session is not None

    def take_back(self) -> None:
        self._show(self.session.undo())

    def finish(self) -> None:
        s = self.session
        self.cancel()
        if s is None or s.patch is None:
            self.ed.message("nothing to accept: no object under the clicks")
            return
        commit(self.ed, s.patch, "new", f"assisted:{self.backend.source}", "click-to-segment")

    def cancel(self) -> None:
        if self.preview is not None:
            self.preview.remove()
        self.preview, self.session = None, None
