"""The wheel a lab installs: built from the committed sources, installed into a fresh virtual environment
with the checkout nowhere on the path, and used from a folder outside it (init, synth, a tiny train).

The heavy dependencies are reused from the project's environment (a ``.pth`` line naming its
site-packages: ``.pth`` files inside that folder, such as the editable install's finder, are not run),
so the test costs a build and three commands, not a 6 GB install."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

SOURCES = ("datasets", "training", "workbench", "configs", "pyproject.toml", "README.md", "LICENSE")


def _run(cmd: list[str], cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the fresh venv's bin folder, an environment for it) with the wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        f = REPO / name
        if f.is_dir():
            shutil.copytree(f, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(f, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", NO_ALBUMENTATIONS_UPDATE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(dist),
          str(src)], root, env)
    wheel = next(dist.glob("xwb-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "configs/taxonomy.yaml" in names and "configs/seg_tiny.yaml" in names, names
    assert any(n.endswith("licenses/LICENSE") for n in names), names
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", str(wheel)], root, env)
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root,
                        env).stdout.strip())
    (purelib / "_xwb_heavy_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv / "bin", env


def test_wheel_installs_and_runs_outside_the_checkout(installed, tmp_path):
    bin_, env = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(bin_ / "python"), "-c", "import configs, datasets, training, workbench; "
                  "print(datasets.__file__, configs.folder(), sep='\\n')"], work, env).stdout.split()
    for w in where:
        assert not Path(w).resolve().is_relative_to(REPO), f"{w} comes from the checkout, not the wheel"
    v = _run([str(bin_ / "xwb"), "--version"], work, env).stdout
    assert v.startswith("xwb ") and "unknown" not in v, v
    _run([str(bin_ / "xwb"), "init", "blank"], work, env)
    assert (work / "blank" / "project.yaml").is_file()
    _run([str(bin_ / "xwb"), "synth", "bag", "--count", "8", "--size", "128x160", "--seed", "3"], work, env)
    r = _run([str(bin_ / "xwb"), "train", "seg_tiny", "--project", "bag", "--set", "optim.epochs=1", "--quiet"],
             work, env, timeout=420)
    assert "models:/" in r.stdout, r.stdout
