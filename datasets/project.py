"""A project: a folder with ``project.yaml`` and one store (a SQLite file by default).

project.yaml holds what people edit by hand (name, taxonomy, image root,
split proportions); the store holds everything annotators and models write.
Images stay where they are: the store keeps their path relative to the image
root (posix, never absolute, never climbing out with ``..``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datasets import safeyaml, stores, validation
from datasets.errors import XwbError
from datasets.readers import is_scan_folder
from datasets.regions import Region
from datasets.safefs import atomic_write
from datasets.scanio import Scan, file_sha256, is_scan_file, read_scan, verify_scan
from datasets.stores import DEFAULT as DEFAULT_STORE
from datasets.stores import ImageRecord, Store, open_store
from datasets.taxonomy import Taxonomy, default_taxonomy_path

CONFIG_NAME = "project.yaml"
STORE_NAME = "labels.sqlite"  # the default (sqlite) backend's file, refused as a second project's
DEFAULT_SPLITS = {"train": 0.7, "val": 0.15, "test": 0.15}


@dataclass
class ProjectConfig:
    name: str
    taxonomy: Taxonomy
    image_root: str = "."
    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    warnings: list[str] = field(default_factory=list)  # worth saying, not worth refusing the project for
    store: dict[str, Any] = field(default_factory=lambda: {"backend": DEFAULT_STORE})  # backend and its settings

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"xwb_schema": 1, "name": self.name, "image_root": self.image_root,
                               "splits": dict(self.splits), "taxonomy": self.taxonomy.to_dict()}
        if self.store != {"backend": DEFAULT_STORE}:  # older projects' files stay as they were
            out["store"] = self.store["backend"] if len(self.store) == 1 else dict(self.store)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ProjectConfig:
        if not isinstance(data, dict):
            raise XwbError(f"{where}: expected a mapping")
        try:
            f = _ProjectFile.model_validate(data)
        except ValidationError as e:
            raise XwbError(validation.message(where, e)) from None
        if f.xwb_schema > PROJECT_SCHEMA:
            raise XwbError(f"{where}: xwb_schema: {f.xwb_schema} was written by a newer xwb (this one reads up to "
                           f"{PROJECT_SCHEMA}); upgrade xwb")
        if abs(sum(f.splits.values()) - 1.0) > 1e-6 or set(f.splits) != {"train", "val", "test"}:
            raise XwbError(f"{where}: splits: must give train, val and test proportions summing to 1")
        tax = Taxonomy.from_dict(f.taxonomy, where=f"{where}: taxonomy")
        cfg = cls(f.name, tax, f.image_root, dict(f.splits))
        if f.store is not None:
            cfg.store = {"backend": f.store} if isinstance(f.store, str) else dict(f.store)
            if not isinstance(cfg.store.get("backend"), str):
                raise XwbError(f"{where}: store: needs a backend name (this xwb has: {', '.join(stores.names())})")
            try:
                stores.backend(cfg.store["backend"])  # an unknown name is refused here, naming the ones there are
            except XwbError as e:
                raise XwbError(f"{where}: {e}") from None
        cfg.warnings = [f"{where}: taxonomy: classes {d} (hard to tell apart on screen)"
                        for d in tax.duplicate_colors()]
        return cfg


PROJECT_SCHEMA = 1


class _ProjectFile(BaseModel):
    """project.yaml, checked like a training recipe: known keys, strict types, sane sizes."""

    model_config = ConfigDict(extra="forbid", strict=True)
    xwb_schema: int = Field(PROJECT_SCHEMA, ge=1)
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    image_root: str = Field(".", min_length=1, max_length=4096, pattern=r"^[^\x00]+$")
    splits: dict[Literal["train", "val", "test"], Annotated[float, Field(ge=0, le=1, strict=False)]] = \
        Field(default_factory=lambda: dict(DEFAULT_SPLITS))
    taxonomy: dict = Field(default_factory=dict)
    store: str | dict[str, Any] | None = None  # a backend name, or {backend: name, ...its settings}


@dataclass
class AddSummary:
    added: int = 0
    skipped_known: int = 0
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # axes a reader assumed (said once per file, not refused)


class Project:
    """An open project. ``Project.open(folder)`` or ``Project.create(folder, ...)``."""

    def __init__(self, folder: Path, config: ProjectConfig, store: Store):
        self.folder = folder
        self.config = config
        self.store = store

    # -- lifecycle --------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, name: str | None = None, taxonomy: Taxonomy | None = None,
               image_root: str = ".", splits: dict[str, float] | None = None,
               store: dict[str, Any] | None = None) -> Project:
        folder = Path(folder)
        if (folder / CONFIG_NAME).exists() or (folder / STORE_NAME).exists():
            raise XwbError(f"{folder}: already a project")
        if folder.exists() and not folder.is_dir():
            raise XwbError(f"{folder}: exists and is not a folder")
        if taxonomy is None:
            taxonomy = Taxonomy.load(default_taxonomy_path())
        cfg = ProjectConfig(name or folder.resolve().name, taxonomy, image_root,
                            dict(splits or DEFAULT_SPLITS))
        if store:
            cfg.store = dict(store)
        ProjectConfig.from_dict(cfg.to_dict(), str(folder / CONFIG_NAME))  # validate before writing
        folder.mkdir(parents=True, exist_ok=True)
        store = open_store(folder, cfg.store, create=True)
        atomic_write(folder / CONFIG_NAME, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        return cls(folder, cfg, store)

    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False, timeout: float | None = None) -> Project:
        """Open a project. ``timeout``: how long a write waits for another writer
        (default 10 s, or $XWB_BUSY_TIMEOUT) before failing with "project is busy"."""
        folder = Path(folder)
        if timeout is None:
            timeout = float(os.environ.get("XWB_BUSY_TIMEOUT", "10"))
        cfg_path = folder / CONFIG_NAME
        if not cfg_path.is_file():
            raise XwbError(f"{folder}: not an xwb project (no {CONFIG_NAME})")
        data = safeyaml.load_file(cfg_path)
        cfg = ProjectConfig.from_dict(data, str(cfg_path))
        store = open_store(folder, cfg.store, readonly=readonly, timeout=timeout)
        return cls(folder, cfg, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- config ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def taxonomy(self) -> Taxonomy:
        return self.config.taxonomy

    def save_config(self) -> None:
        atomic_write(self.folder / CONFIG_NAME, yaml.safe_dump(self.config.to_dict(), sort_keys=False))

    @property
    def image_root(self) -> Path:
        root = Path(self.config.image_root)
        return root if root.is_absolute() else (self.folder / root)

    # -- paths -----------------------------------------------------------------------
    def relpath(self, file: str | Path) -> str:
        """The store's path of a file: relative to the image root, posix."""
        p = Path(file).resolve()
        root = self.image_root.resolve()
        try:
            rel = p.relative_to(root)
        except ValueError:
            raise XwbError(f"{file}: outside the project's image root {root}; "
                           "copy it there or set image_root in project.yaml") from None
        return rel.as_posix()

    def check_relpath(self, rel: str, where: str) -> str:
        """Validate an image path from an imported file: relative, inside the root."""
        if not isinstance(rel, str) or not rel:
            raise XwbError(f"{where}: image path is empty")
        if "\\" in rel:
            rel = rel.replace("\\", "/")
        pp = PurePosixPath(rel)
        if pp.is_absolute() or (len(rel) > 1 and rel[1] == ":"):
            raise XwbError(f"{where}: image path {rel!r} is absolute; paths must be relative to the image root")
        if ".." in pp.parts:
            raise XwbError(f"{where}: image path {rel!r} climbs out of the image root ('..')")
        return str(PurePosixPath(*[p for p in pp.parts if p != "."]))

    def image_path(self, rec: ImageRecord | str) -> Path:
        rel = rec.path if isinstance(rec, ImageRecord) else rec
        return self.image_root / rel

    def read_scan(self, rec: ImageRecord) -> Scan:
        """The scan's pixels, with the axes the user gave when it was added (else as its reader says)."""
        return read_scan(self.image_path(rec), axes=rec.axes or None)

    # -- adding scans ----------------------------------------------------------------------
    def make_record(self, file: Path, rel: str | None = None, axes: str | None = None,
                    notes: list[str] | None = None) -> ImageRecord:
        """A store record for a scan file, after its pixels decode (a broken file is refused here). A reader's
        guess about the axes lands in ``notes``. A volume is recorded with its depth (slices along z)."""
        info = verify_scan(file, axes=axes)
        if info.assumed and notes is not None:
            notes.append(f"{file}: {info.assumed}")
        return ImageRecord(id=0, path=rel or self.relpath(file), width=info.width, height=info.height,
                           channels=info.channels, bit_depth=info.bit_depth, layout=info.layout,
                           sha256=file_sha256(file), axes=info.axes if axes else "", depth=info.depth)

    def add_scans(self, paths: Iterable[str | Path], progress=None, axes: str | None = None) -> AddSummary:
        """Add scan files and folders (recursively). Known paths are skipped; unreadable files listed.
        ``axes``: what the files hold when their readers cannot tell (``--axes``)."""
        summary = AddSummary()
        files: list[Path] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                files.extend(_scans_under(p))
            elif p.is_file():
                files.append(p)
            else:
                raise XwbError(f"{p}: no such file or folder")
        recs: list[ImageRecord] = []
        seen: set[str] = set()
        for f in files:
            rel = self.relpath(f)
            if rel in seen or self.store.image_id_by_path(rel) is not None:
                summary.skipped_known += 1
                continue
            try:
                recs.append(self.make_record(f, rel, axes, summary.notes))
                seen.add(rel)
            except XwbError as e:
                summary.failed.append(str(e))
            if progress:
                progress(len(recs))
        if recs:
            self.store.add_images(recs)
        summary.added = len(recs)
        return summary

    # -- convenience over the store ------------------------------------------------------------
    def images(self, **kw) -> list[ImageRecord]:
        return self.store.images(**kw)

    def regions(self, image_id: int, state: str | None = None) -> list[Region]:
        return self.store.regions(image_id, state)


def _scans_under(folder: Path) -> list[Path]:
    """Scan files under a folder, and folders that are one scan (a DICOM series), in name order; a series'
    own files are not added again one by one."""
    if is_scan_folder(folder):
        return [folder]
    out: list[Path] = []
    for p in sorted(folder.iterdir()):
        if p.is_dir():
            out.extend(_scans_under(p))
        elif p.is_file() and is_scan_file(p):
            out.append(p)
    return out
