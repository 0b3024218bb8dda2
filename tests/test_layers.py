"""The layering rule: datasets/ is free of Qt and torch; nothing below workbench/ imports Qt.

Checked by importing every module in a fresh interpreter and looking at
sys.modules, so indirect imports (through a third-party package) count too.
"""
import subprocess
import sys

from tests.conftest import REPO

CHECK = r"""
import importlib, pkgutil, sys
pkg = importlib.import_module({pkg!r})
for m in pkgutil.walk_packages(pkg.__path__, {pkg!r} + "."):
    importlib.import_module(m.name)
bad = sorted(n for n in sys.modules if n.split(".")[0] in {banned!r})
print("BAD:" + ",".join(bad))
"""


def _imports(pkg, banned):
    out = subprocess.run([sys.executable, "-c", CHECK.format(pkg=pkg, banned=banned)], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("BAD:")][-1]
    return [x for x in line[4:].split(",") if x]


def test_datasets_imports_no_qt_no_torch_no_upper_layers():
    assert _imports("datasets", ["PySide6", "shiboken6", "torch", "training", "workbench"]) == []


def test_training_imports_no_qt():
    assert _imports("training", ["PySide6", "shiboken6", "workbench"]) == []


def test_xwb_cli_parser_does_not_load_qt_or_torch():
    code = "import sys; from workbench.cli import build_parser; build_parser(); " \
           "print('BAD:' + ','.join(n for n in sys.modules if n.split('.')[0] in ('PySide6','torch')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("BAD:"), out.stdout


def test_assisted_geometry_is_free_of_qt_and_torch():
    """workbench/assist holds the tools' geometry for the benchmark and the tests: no window, no model."""
    assert _imports("workbench.assist", ["PySide6", "shiboken6", "torch", "training"]) == []
