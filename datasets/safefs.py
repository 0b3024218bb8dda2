"""Writing files without surprises: inside their target folder, never through a link, whole or not at all.

Every file xwb writes for a user goes through here:
- names built from data (class names, image paths) are joined with ``join_inside``, which refuses any
  result that leaves the target folder;
- ``atomic_write`` writes a temporary file with an unpredictable name (``mkstemp``: O_CREAT|O_EXCL, so a
  planted link is never followed), fsyncs it, gives it the mode the umask allows, and renames it over the
  target; a symlink or a folder at the target is refused, as is an existing file unless ``overwrite``;
- ``staged_export`` builds a whole export in a hidden folder and moves it into place at the end, so a
  failed export (disk full, a refused name) leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Union

from datasets.errors import XwbError

Data = Union[bytes, str, Callable[[object], None]]  # noqa: UP007 (a runtime alias: py3.10 has no `|` on Callable)


@functools.lru_cache(maxsize=1)
def current_umask() -> int:
    """The process's umask, read once: reading it means setting it, which must not race with other threads
    creating files on every write."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0644 under the usual umask 022)."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    return 0o777 & ~current_umask()


def join_inside(root: str | Path, *parts: str) -> Path:
    """``root / parts``, refused when the result would leave ``root`` (``..``, absolute parts, links)."""
    root = Path(root)
    path = root.joinpath(*parts)
    for part in parts:
        p = Path(part)
        if p.is_absolute() or ".." in p.parts or "\\" in part or "\0" in part:
            raise XwbError(f"{path}: refusing to write outside {root} (name {part!r})")
    real_root = root.resolve()
    real = path.parent.resolve() / path.name
    if real_root != real and real_root not in real.parents:
        raise XwbError(f"{path}: refusing to write outside {root} (it leads to {real})")
    return path


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse a link or a folder at ``path``, and an existing file unless ``overwrite``."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise XwbError(f"{path}: is a symbolic link; refusing to write through it (remove it first)")
    if stat.S_ISDIR(st.st_mode):
        raise XwbError(f"{path}: is a folder, not a file")
    if not overwrite:
        raise XwbError(f"{path}: already exists (use --overwrite to replace it)")


def atomic_write(path: str | Path, data: Data, overwrite: bool = True) -> Path:
    """Write ``data`` (bytes, text, or a function writing to a binary file object) to ``path`` atomically."""
    path = Path(path)
    check_target(path, overwrite)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise os_error(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), file_mode())
        check_target(path, overwrite)  # (again: a link planted while we wrote is not followed either)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise os_error(e, path) from None
        raise
    return path


@contextlib.contextmanager
def staged_export(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty hidden folder inside ``out``; what is written there moves into ``out`` at the end.

    Before anything moves, every target is checked (no links, no folders in the way, no existing file
    unless ``overwrite``), so a refused or failed export (disk full, a bad name) leaves ``out`` as it was:
    the staging folder is removed, and so is ``out`` when the export created it. Files that are in
    ``out`` but not in the export are left alone (``out`` may be the scans' own folder, for labelme).
    """
    out = Path(out)
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise XwbError(f"{out}: is a symbolic link; refusing to export through it")
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise XwbError(f"{out}: exists and is not a folder")
    created = st is None
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".xwb-export.", dir=out))
    except OSError as e:
        raise os_error(e, out) from None
    try:
        yield tmp
        files = sorted(p for p in tmp.rglob("*") if p.is_file() or p.is_symlink())
        targets = [(f, out / f.relative_to(tmp)) for f in files]
        for _, t in targets:
            check_target(t, overwrite)
            for parent in t.relative_to(out).parents:
                q = out / parent
                if q != out and (q.is_symlink() or (q.exists() and not q.is_dir())):
                    raise XwbError(f"{q}: is in the way (a link or a file where the export needs a folder)")
        for f, t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, t)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(e, OSError):
            raise os_error(e, out) from None
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never existing before, never through a link) inside a private staging folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)  # (umask applies)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def disk_full(path: Path, margin: int = 1 << 20) -> bool:
    """Less than ``margin`` bytes free where ``path`` lives (tells a full disk from other I/O errors)."""
    try:
        st = os.statvfs(Path(path).parent)
        return st.f_bavail * st.f_frsize < margin
    except OSError:
        return False


def read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def why_read_only(path: Path) -> str:
    """Why ``path`` cannot be written here, for a one-line message."""
    path = Path(path)
    if read_only_fs(path):
        return f"{path.parent} is on a read-only file system"
    if path.exists() and not os.access(path, os.W_OK):
        return f"no write permission on {path}"
    return f"no write permission on {path.parent}"


def os_error(e: OSError, path: str | Path) -> XwbError:
    """An OSError as the one line a user needs: the path and the cause (disk full, read-only, ...)."""
    return XwbError(f"{path}: cannot write ({e.strerror or type(e).__name__})")
