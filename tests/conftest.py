"""Shared fixtures. Qt must be told to run offscreen before it is imported."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import contextlib  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

# the workbench's QSettings (recent projects, annotator) must not touch the user's own
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="xwb-test-config-")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path):
    """An empty project with the default taxonomy, closed at the end."""
    from datasets.project import Project

    p = Project.create(tmp_path / "proj")
    yield p
    p.close()


def write_scans(folder: Path, n: int, size=(64, 96), seed=0, dual=False, fmt="tiff") -> list[Path]:
    """Small 16-bit scans on disk (real files, read back by the real readers)."""
    from datasets.scanio import write_tiff

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        shape = (*size, 2) if dual else size
        a = rng.integers(0, 65535, size=shape, dtype=np.uint16)
        f = folder / f"scan_{i:03d}.{fmt}"
        if fmt == "tiff":
            write_tiff(f, a)
        else:
            import cv2

            cv2.imwrite(str(f), a)
        out.append(f)
    return out


@pytest.fixture
def scans_project(project):
    """A project with 6 small 16-bit scans in <project>/images."""
    files = write_scans(project.folder / "images", 6)
    project.add_scans(files)
    return project


def region_total(store) -> int:
    """Every region a store holds, rejected proposals included (asked through the Store protocol)."""
    return sum(store.counts()["by_state"].values())


def empty_project(p) -> None:
    """Delete every scan of a project (and, with them, their regions), in one transaction."""
    with p.store.transaction():
        for r in p.images(with_sets=False):
            p.store.delete_image(r.id)


class WriteLock:
    """Another writer holding a project's write lock, taken and given back on demand (through the Store protocol,
    so it holds whichever backend the project uses)."""

    def __init__(self, folder: Path):
        from datasets.project import Project

        self.project = Project.open(folder)
        self._tx = None

    def take(self) -> None:
        self._tx = self.project.store.transaction()
        self._tx.__enter__()

    def release(self) -> None:
        tx, self._tx = self._tx, None
        tx.__exit__(None, None, None)

    def close(self) -> None:
        if self._tx is not None:
            self.release()
        self.project.close()


def rle_string(runs: list[int]) -> str:
    """COCO's compressed RLE text for ``runs`` (pycocotools' rleToString, in Python): lets tests write the
    tiny files that declare huge masks."""
    out = []
    for i, x in enumerate(runs):
        if i > 2:
            x -= runs[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if c & 0x10 else (x != 0)
            out.append(chr(c + (0x20 if more else 0) + 48))
    return "".join(out)


def one_line_error(r, *needles) -> str:
    """A refused command: non-zero exit, one line on stderr (no traceback) holding every needle."""
    assert r.returncode != 0, r.stdout
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err
    return err


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("needs a tmpfs mount (root with CAP_SYS_ADMIN) to make a real full or read-only disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
