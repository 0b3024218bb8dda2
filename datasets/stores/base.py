"""What every project store offers: the records it holds and the ``Store`` protocol.

Code above the store (projects, formats, training, the workbench) speaks only this
protocol, so a team's server backend is one new module in ``datasets/stores/``
that passes the contract suite (``tests/datasets/stores/test_contract.py``).
Errors are ``datasets.errors.StoreError`` and its subclasses, never a driver's.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from datasets.regions import Region
from datasets.stores.history import HistoryEntry

STATUSES = ("new", "in_progress", "done", "reviewed", "rejected")
SPLITS = ("train", "val", "test")


@dataclass
class ImageRecord:
    """One scan of the project as the store knows it (pixels stay in the file)."""
    id: int
    path: str
    width: int
    height: int
    channels: int
    bit_depth: int
    layout: str
    sha256: str
    status: str = "new"
    comment: str = ""
    split: str | None = None
    tags: list[str] = field(default_factory=list)
    manifest: list[str] = field(default_factory=list)
    added_at: float = 0.0
    updated_at: float = 0.0
    axes: str = ""  # the scan's axes as the user said them (xwb add --axes); empty: as its reader reads the file
    depth: int = 1  # slices of a volume (z); 1 for a 2-D scan

    @property
    def is_volume(self) -> bool:
        return self.depth > 1 or self.axes.startswith("z")


@dataclass(frozen=True)
class EditorSeat:
    """Who holds a project's editor seat (shown to a second window that opens read-only)."""
    user: str
    host: str
    pid: int


@runtime_checkable
class Store(Protocol):
    """One project's annotations. Not shared between threads: open one per thread.

    Every write is atomic (whole or not at all); ``transaction()`` groups several writes into one."""

    path: Path          # where the store lives (a file, or a file standing for a server's project)
    readonly: bool

    # -- life and transactions
    def close(self) -> None: ...
    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside land together or not at all; nested ones join the outer one."""
    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one consistent state, whatever other writers commit meanwhile."""
    def schema_version(self) -> int: ...
    def data_version(self) -> int:
        """Changes whenever another connection commits: cheap polling for views that follow other writers."""
    def set_busy_timeout(self, seconds: float) -> None:
        """How long a write waits for another writer before ProjectBusyError."""
    def check(self) -> list[str]:
        """Problems the backend finds in its own data (empty when sound)."""

    # -- the history (datasets/stores/history.py): every write above records itself, append-only
    def set_actor(self, who: str | None = None, program: str | None = None) -> None:
        """Who makes this store's changes and from which program; default: the OS user and the process."""
    def history(self, image_id: int | None = None, region_id: int | None = None, who: str | None = None,
                since: float | None = None, limit: int | None = None) -> list[HistoryEntry]:
        """Entries oldest first, filtered by scan, region, person and time."""

    # -- images, tags, status, comments, manifest, splits
    def add_image(self, rec: ImageRecord) -> int: ...
    def add_images(self, recs: Sequence[ImageRecord]) -> list[int]: ...
    def images(self, status: str | None = None, split: str | None = None,
               with_sets: bool = True) -> list[ImageRecord]: ...
    def image(self, image_id: int) -> ImageRecord: ...
    def image_id_by_path(self, path: str) -> int | None: ...
    def image_statuses(self) -> list[tuple[int, str, str]]: ...
    def update_image(self, image_id: int, *, status: str | None = None, comment: str | None = None,
                     tags: Iterable[str] | None = None, manifest: Iterable[str] | None = None) -> None: ...
    def set_splits(self, assignment: dict[int, str], *, reassign: bool = False) -> None:
        """Give images a split. An assigned split is frozen unless ``reassign`` (repairs and tests only)."""
    def delete_image(self, image_id: int) -> None: ...

    # -- regions and proposals
    def add_region(self, image_id: int, region: Region) -> int: ...
    def add_regions(self, image_id: int, regions: Sequence[Region]) -> list[int]: ...
    def restore_region(self, image_id: int, region: Region) -> int: ...
    def update_region(self, region: Region) -> None: ...
    def delete_region(self, region_id: int) -> None: ...
    def max_group(self, image_id: int) -> int: ...
    def regions(self, image_id: int, state: str | None = None, include_rejected: bool = False) -> list[Region]: ...
    def region(self, region_id: int) -> Region: ...
    def iter_regions(self, state: str | None = None, include_rejected: bool = False) -> Iterator[Region]: ...
    def region_classes_by_image(self, state: str = "accepted") -> dict[int, set[int]]: ...
    def region_counts(self) -> dict[int, int]: ...
    def replace_proposals(self, image_id: int, source: str, regions: Sequence[Region]) -> list[int]: ...
    def replace_tag_proposals(self, image_id: int, source: str, scores: dict[str, float]) -> None: ...
    def tag_proposals(self, image_id: int) -> list[tuple[str, str, float]]: ...

    # -- summaries
    def counts(self) -> dict:
        """Totals for ``xwb stats``: images, regions (rejected left out), by status, split, state, class, tag."""

    # -- the editor seat (one editing window per project)
    def claim_editor(self, user: str = "", stale_after: float = 30.0) -> int | None: ...
    def editor(self) -> EditorSeat | None:
        """The live holder of the editor seat, if any."""
    def heartbeat(self, session_id: int) -> None: ...
    def release_editor(self, session_id: int) -> None: ...
