"""The Models panel: the project's registered versions, and what an annotator does with one.

- Versions: name, version, aliases, task, the dataset digest it was trained on and its headline figures
  (``training/versions/catalog.py``), listed in the background.
- Pre-label this scan or the listed scans (the image list's filter; done and reviewed scans are left alone)
  with the chosen version, in the background with progress and Cancel; each scan's proposals land whole.
- Accept every proposal of that version scoring at least a threshold, in this scan or the listed scans: one
  undoable step per scan.
- What to label next: rank the unlabelled scans by the version's uncertainty (``training/inference/queue.py``); the
  image list shows it in a column and walks them most uncertain first.
- Train: a recipe (the shipped ones, the project's, or a file) with optional ``--set`` overrides, run as
  ``xwb train`` in a subprocess; its log streams into the panel, Stop ends it after its last epoch (resumable),
  and the version it registers appears in the list (and ranks the queue again when one is shown).

The window it serves implements ``ModelsHost`` (below); models load once per version and stay loaded.
"""
from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import configs
from datasets.project import Project
from workbench.jobs import Job

EPOCH = re.compile(r"^epoch (\d+)/(\d+)")
REGISTERED = re.compile(r"registered (\S+) version (\d+)")


class ModelsHost(Protocol):
    project: Project
    readonly: bool

    @property
    def image(self): ...                                      # the ImageRecord in view, or None

    def listed_images(self) -> list[int]: ...                 # the image list's ids, filtered, in order

    def accept_proposals(self, image_ids: list[int], min_score: float, source: str | None = None) -> tuple[int, int]: ...

    def show_uncertainty(self, values: dict[int, float], model: str) -> None: ...

    def message(self, text: str) -> None: ...


class ModelsPanel(QWidget):
    versions_loaded = Signal(int)     # rows listed (tests and the screenshot script wait on it)
    job_done = Signal(str, object)    # (what, result) of a pre-label or ranking
    training_ended = Signal(int)      # exit code of the training subprocess

    def __init__(self, host: ModelsHost, parent=None):
        super().__init__(parent)
        self.host = host
        self.folder = host.project.folder
        self.rows = []                 # VersionRow
        self._predictors: dict[str, object] = {}  # uri -> Predictor (loaded once)
        self.lister, self.job = Job(self), Job(self)
        self.lister.finished.connect(self._listed)
        self.lister.failed.connect(self._list_failed)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._job_finished)
        self.job.failed.connect(self._job_failed)
        self.proc: QProcess | None = None
        self._registered: str | None = None
        self._new_uri = ""
        self._partial = ""
        self._listed_once = False
        self._ranked = False  # a queue is shown: a newly trained version ranks it again
        self._stopping = False  # Stop was pressed: the run's exit is "stopped", not "failed"
        self._build()

    def showEvent(self, e) -> None:
        super().showEvent(e)
        if not self._listed_once:  # MLflow is asked only once the panel is looked at
            self.reload()

    # -- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["model", "v", "aliases", "task", "digest", "figures"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        head = self.table.horizontalHeader()
        for j in range(5):
            head.setSectionResizeMode(j, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.clicked.connect(self.reload)
        self.prelabel_scan = QPushButton("Pre-label this scan")
        self.prelabel_list = QPushButton("Pre-label listed")
        self.prelabel_scan.setToolTip("write the chosen version's proposals for the scan in view")
        self.prelabel_list.setToolTip("the image list's scans as filtered (done and reviewed scans are left alone)")
        self.prelabel_scan.clicked.connect(lambda: self.prelabel("scan"))
        self.prelabel_list.clicked.connect(lambda: self.prelabel("list"))
        # its lowest value stands for the version's own per-class operating points (chosen on val)
        self.min_score = QDoubleSpinBox(decimals=2, minimum=-0.05, maximum=1.0, singleStep=0.05, value=-0.05)
        self.min_score.setSpecialValueText("op. point")
        self.min_score.setToolTip("weakest proposal written: the version's per-class operating points (chosen on "
                                  "the val split for its false-alarm rate), or one score for every class")
        self.accept_score = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05, value=0.9)
        self.accept_scan = QPushButton("Accept ≥ score here")
        self.accept_list = QPushButton("… in listed")
        self.accept_scan.setToolTip("accept the chosen version's proposals scoring at least this in the scan in view")
        self.accept_scan.clicked.connect(lambda: self.accept("scan"))
        self.accept_list.clicked.connect(lambda: self.accept("list"))
        self.rank_btn = QPushButton("What to label next")
        self.rank_btn.setToolTip("rank the unlabelled scans by the chosen version's uncertainty; the image list "
                                 "sorts by it, most uncertain first")
        self.rank_btn.clicked.connect(self.rank)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.job.cancel)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.recipe = QComboBox()
        self.recipe.setEditable(False)
        for p in configs.recipes(self.folder):
            self.recipe.addItem(p.stem if p.parent == configs.folder() else f"{p.stem} (project)", str(p))
        self.recipe.addItem("other file…", "")
        own = next((i for i in range(self.recipe.count()) if self.recipe.itemText(i).endswith("(project)")), None)
        default = own if own is not None else self.recipe.findText("seg_unet_resnet18")
        self.recipe.setCurrentIndex(max(default, 0))  # the project's own recipe, else the default one
        self.recipe.activated.connect(self._recipe_chosen)
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText("--set overrides, e.g. optim.epochs=5 data.tile=256")
        self.train_btn = QPushButton("Train")
        self.train_btn.clicked.connect(self.train)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("stop after the last finished epoch; `xwb runs` shows how to resume it")
        self.stop_btn.setEnabled(False)
        self.stop_btn.clicked.connect(self.stop_training)
        self.train_progress = QProgressBar()
        self.train_progress.setFormat("no training")
        self.train_progress.setValue(0)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setPlaceholderText("training log")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        top.addWidget(QLabel("Registered versions"))
        top.addStretch(1)
        top.addWidget(self.refresh_btn)
        lay.addLayout(top)
        lay.addWidget(self.table, 2)
        r1 = QHBoxLayout()
        r1.addWidget(self.prelabel_scan)
        r1.addWidget(self.prelabel_list)
        r1.addWidget(QLabel("min score"))
        r1.addWidget(self.min_score)
        lay.addLayout(r1)
        r2 = QHBoxLayout()
        r2.addWidget(self.accept_scan)
        r2.addWidget(self.accept_list)
        r2.addWidget(self.accept_score)
        lay.addLayout(r2)
        r3 = QHBoxLayout()
        r3.addWidget(self.rank_btn)
        r3.addWidget(self.progress, 1)
        r3.addWidget(self.cancel_btn)
        lay.addLayout(r3)
        lay.addWidget(self.status)
        box = QGroupBox("Train a new version")
        b = QVBoxLayout(box)
        t1 = QHBoxLayout()
        t1.addWidget(self.recipe, 1)
        t1.addWidget(self.train_btn)
        t1.addWidget(self.stop_btn)
        b.addLayout(t1)
        b.addWidget(self.overrides)
        b.addWidget(self.train_progress)
        b.addWidget(self.log, 1)
        lay.addWidget(box, 2)
        self._update_buttons()

    # -- versions --------------------------------------------------------------------
    def reload(self) -> None:
        """List the registered versions again (in the background: MLflow takes a second or two)."""
        folder = self.folder
        self._listed_once = True
        if not os.environ.get("MLFLOW_TRACKING_URI") and not (folder / "mlflow" / "mlflow.db").is_file():
            self._listed([])  # nothing trained here yet: no store to create just by looking
            return

        def work(progress, cancelled):
            from training.versions.catalog import project_versions

            return project_versions(folder)
        if self.lister.start("list versions", work):
            self.refresh_btn.setEnabled(False)

    def _listed(self, rows) -> None:
        chosen = self.chosen()
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            cells = [r.name, r.version, ", ".join(r.aliases) or "-", r.task, r.digest[:12] or "-", r.headline() or "-"]
            for j, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if j == 4:
                    it.setToolTip(f"dataset digest it was trained on: {r.digest}")
                if j == 5:
                    it.setToolTip("\n".join(f"{k}: {v:.4f}" for k, v in sorted(r.figures.items())) or "no figures")
                self.table.setItem(i, j, it)
        self.refresh_btn.setEnabled(True)
        keep = next((i for i, r in enumerate(self.rows) if chosen is not None and r.uri == chosen.uri), None)
        if keep is None:  # the champion of a batch model, else the newest such version, else the first row
            usable = [i for i, r in enumerate(self.rows) if r.batch_use == ""]
            keep = next((i for i in usable if "champion" in self.rows[i].aliases), usable[0] if usable else 0)
        if self.rows:
            self.table.selectRow(keep)
        self._update_buttons()
        if not self.rows:
            self.status.setText("no registered versions yet: train one below")
        self.versions_loaded.emit(len(self.rows))

    def _list_failed(self, msg: str) -> None:
        self.refresh_btn.setEnabled(True)
        self.status.setText(f"cannot list versions: {msg}")
        self.versions_loaded.emit(0)

    def chosen(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def choose(self, uri: str) -> None:
        for i, r in enumerate(self.rows):
            if r.uri == uri:
                self.table.selectRow(i)
                return

    def _update_buttons(self) -> None:
        r = self.chosen()
        busy = self.job.running
        usable = r is not None and r.batch_use == "" and not busy
        for w in (self.prelabel_scan, self.prelabel_list, self.accept_scan, self.accept_list):
            w.setEnabled(usable and not self.host.readonly)
        self.rank_btn.setEnabled(usable)
        why = r.batch_use if r is not None and r.batch_use else ""
        for w in (self.prelabel_scan, self.prelabel_list, self.rank_btn):
            if not w.property("usual_tip"):
                w.setProperty("usual_tip", w.toolTip())
            w.setToolTip(why or w.property("usual_tip"))  # why it is off, else what it does
        self.cancel_btn.setEnabled(busy)
        self.train_btn.setEnabled(self.proc is None and not self.host.readonly)
        self.stop_btn.setEnabled(self.proc is not None)

    # -- background work ---------------------------------------------------------------
    def _predictor(self, uri: str):
        """Load a version once (in the worker thread); later jobs reuse it."""
        if uri not in self._predictors:
            from training.inference.predict import load_predictor
            from training.versions import tracking

            self._predictors[uri] = load_predictor(uri, "cpu", tracking.resolve_uri(None, self.folder))
        return self._predictors[uri]

    def _start(self, what: str, work) -> None:
        if self.job.start(what, work):
            self.progress.setRange(0, 0)  # busy until the first scan reports
            self.progress.setFormat(f"{what}: loading the model…")
            self.status.setText("")
            self._update_buttons()

    def prelabel(self, scope: str) -> None:
        r = self.chosen()
        if r is None or self.host.readonly:
            return
        ids = self._scope(scope, skip_finished=True)
        if not ids:
            self.status.setText("no scan to pre-label (done and reviewed scans are left alone)")
            return
        uri, folder = r.uri, self.folder
        thr = None if self.min_score.value() < 0 else float(self.min_score.value())
        source = f"model:{r.name}/{r.version}"

        def work(progress, cancelled):
            from training.inference.outputs import prelabel_scans
            from training.versions import registry

            pred = self._predictor(uri)
            with Project.open(folder) as p:
                registry.check_taxonomy(pred.spec, p, uri)
                recs = [p.store.image(i) for i in ids]
                out = prelabel_scans(pred, source, p, recs, pred.thresholds if thr is None else thr,
                                     progress=progress, cancelled=cancelled)
            return {**out, "uri": uri, "total": len(ids)}
        self._start(f"pre-label {len(ids)} scan{'s' if len(ids) > 1 else ''}", work)

    def rank(self) -> None:
        r = self.chosen()
        if r is None:
            return
        uri, folder = r.uri, self.folder

        def work(progress, cancelled):
            from training.inference.outputs import targets
            from training.inference.queue import rank_scans

            pred = self._predictor(uri)
            with Project.open(folder, readonly=True) as p:
                ranked, failed = rank_scans(pred, p, targets(p, None, "new"), progress, cancelled)
            return {"ranked": ranked, "failed": failed, "uri": uri}
        self._start("rank unlabelled scans", work)

    def accept(self, scope: str) -> None:
        r = self.chosen()
        if r is None:
            return
        ids = self._scope(scope, skip_finished=False)
        n, scans = self.host.accept_proposals(ids, float(self.accept_score.value()), f"model:{r.name}/{r.version}")
        self.status.setText(f"accepted {n} proposal{'s' if n != 1 else ''} of {r.name} v{r.version} scoring ≥ "
                            f"{self.accept_score.value():.2f} in {scans} scan{'s' if scans != 1 else ''}"
                            + (" (Ctrl+Z on a scan takes it back)" if n else ""))

    def _scope(self, scope: str, skip_finished: bool) -> list[int]:
        if scope == "scan":
            img = self.host.image
            return [img.id] if img is not None else []
        ids = self.host.listed_images()
        if skip_finished:
            st = {i: s for i, _, s in self.host.project.store.image_statuses()} if ids else {}
            ids = [i for i in ids if st.get(i) not in ("done", "reviewed")]
        return ids

    def _progress(self, done: int, total: int, line: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{self.job.what}: {done}/{total}")
        self.status.setText(line)

    def _job_finished(self, res: dict) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if "ranked" in res:
            self._ranked = True
            ranked = res["ranked"]
            self.host.show_uncertainty({r.image_id: r.uncertainty for r in ranked}, res["uri"])
            top = ", ".join(f"{Path(r.path).name} {r.uncertainty:.2f}" for r in ranked[:3])
            msg = (f"ranked {len(ranked)} unlabelled scans; most uncertain first in the image list"
                   + (f": {top}" if top else "") + (f"; {res['failed']} skipped" if res["failed"] else ""))
        else:
            what = "regions" if res["regions"] or not res["tags"] else "tags"
            msg = (f"{'cancelled: ' if res['cancelled'] else ''}pre-labelled {res['scans']} of {res['total']} "
                   f"scans: {res[what]} {what[:-1]} proposals" + (f"; {res['failed']} skipped" if res["failed"] else ""))
        self.progress.setFormat("cancelled" if res.get("cancelled") else "done")
        self.status.setText(msg)
        self.host.message(msg)
        self._update_buttons()
        self.job_done.emit("rank" if "ranked" in res else "prelabel", res)

    def _job_failed(self, msg: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("failed")
        self.status.setText(msg)
        self.host.message(msg)
        self._update_buttons()
        self.job_done.emit("failed", msg)

    # -- training ----------------------------------------------------------------------
    def _recipe_chosen(self, index: int) -> None:
        if self.recipe.itemData(index):
            return
        path, _ = QFileDialog.getOpenFileName(self, "Recipe", str(self.folder), "Recipes (*.yaml *.yml)")
        if path:
            self.recipe.insertItem(0, Path(path).stem, path)
            self.recipe.setCurrentIndex(0)

    def set_recipe(self, path: str | Path) -> None:
        """Choose a recipe file (also one not in the list)."""
        path = str(path)
        i = self.recipe.findData(path)
        if i < 0:
            self.recipe.insertItem(0, Path(path).stem, path)
            i = 0
        self.recipe.setCurrentIndex(i)

    def train_command(self) -> list[str]:
        args = ["-m", "workbench.cli", "train", self.recipe.currentData() or "", "--project", str(self.folder)]
        for s in self.overrides.text().split():
            args += ["--set", s]
        return args

    def train(self) -> None:
        if self.proc is not None or self.host.readonly or not self.recipe.currentData():
            return
        self.log.clear()
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("HF_HUB_OFFLINE", "1")
        env.insert("NO_ALBUMENTATIONS_UPDATE", "1")
        proc.setProcessEnvironment(env)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setWorkingDirectory(str(self.folder))
        proc.readyReadStandardOutput.connect(self._train_output)
        proc.finished.connect(self._train_finished)
        self._partial, self._registered = "", None
        self.proc = proc
        self.train_progress.setRange(0, 0)
        self.train_progress.setFormat("starting…")
        self.log.appendPlainText("$ xwb " + " ".join(self.train_command()[2:]))
        proc.start(sys.executable, self.train_command())
        self._update_buttons()

    def _train_output(self) -> None:
        if self.proc is None:
            return
        text = self._partial + bytes(self.proc.readAllStandardOutput()).decode("utf-8", "replace")
        *lines, self._partial = text.replace("\r", "\n").split("\n")
        for line in lines:
            if not line.strip():
                continue
            self.log.appendPlainText(line)
            m = EPOCH.match(line.strip())
            if m:
                done, total = int(m[1]), int(m[2])
                self.train_progress.setRange(0, total)
                self.train_progress.setValue(done)
                self.train_progress.setFormat(f"epoch {done}/{total}")
            m = REGISTERED.search(line)
            if m:
                self._registered = f"models:/{m[1]}/{m[2]}"

    def _train_finished(self, code: int, status) -> None:
        self._train_output()
        if self._partial.strip():
            self.log.appendPlainText(self._partial)
        self.proc = None
        new, self._registered = self._registered, None
        self.train_progress.setRange(0, 1)
        self.train_progress.setValue(1 if code == 0 else 0)
        self.train_progress.setFormat(f"registered {new[len('models:/'):]}" if code == 0 and new else
                                      ("stopped" if self._stopping else f"failed (exit {code})"))
        self._stopping = False
        self._update_buttons()
        if new:
            self.versions_loaded.connect(self._choose_new)
            self._new_uri = new
            self.reload()
        self.training_ended.emit(code)

    def _choose_new(self, _n: int) -> None:
        self.versions_loaded.disconnect(self._choose_new)
        self.choose(self._new_uri)
        if self._ranked and self.chosen() is not None and self.chosen().batch_use == "":
            self.rank()  # the queue follows the newest model: what it is unsure of now

    def stop_training(self) -> None:
        """Ctrl-C for the run: it ends after its last finished epoch, marked KILLED, resumable."""
        if self.proc is not None and self.proc.processId():
            self._stopping = True
            os.kill(int(self.proc.processId()), signal.SIGINT)

    def shutdown(self) -> None:
        """Closing the window: background jobs stop between scans; a training run is stopped."""
        self.job.cancel()
        self.job.wait(10)
        self.lister.wait(10)
        if self.proc is not None:
            self.stop_training()
            self.proc.waitForFinished(30_000)
