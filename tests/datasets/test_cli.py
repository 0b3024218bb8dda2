"""The xwb command line, run as a user runs it (a real subprocess)."""
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, write_scans


def xwb(*args, ok=True):
    r = subprocess.run([sys.executable, "-m", "workbench.cli", *map(str, args)], cwd=REPO, capture_output=True,
                       text=True, timeout=300)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def test_init_add_info_split_export_import(tmp_path):
    proj = tmp_path / "p"
    xwb("init", proj)
    write_scans(proj / "scans" / "a", 3)
    write_scans(proj / "scans" / "b", 2, dual=True)
    out = xwb("add", proj, proj / "scans").stdout
    assert "added 5 scans" in out
    assert "added 0 scans, 5 already" in xwb("add", proj, proj / "scans").stdout
    xwb("split", proj)
    info = json.loads(xwb("info", proj, "--json").stdout)
    assert info["images"] == 5 and sum(info["by_split"].values()) == 5 and "unassigned" not in info["by_split"]
    assert info["depth_and_layout"] == {"16-bit gray": 3, "16-bit dual": 2}
    assert "firearm" in info["classes"]
    text = xwb("info", proj).stdout
    assert "images: 5" in text and "16-bit dual 2" in text
    xwb("export", "coco", proj, tmp_path / "out")
    assert (tmp_path / "out" / "annotations.json").exists()
    xwb("export", "masks", proj, tmp_path / "masks")
    xwb("export", "labelme", proj, tmp_path / "lm")
    r = xwb("import", "coco", proj, tmp_path / "out" / "annotations.json")
    assert "imported 0 regions on 5 images" in r.stdout


@pytest.mark.parametrize("args,msg", [
    (["info", "{tmp}/nothing"], "not an xwb project"),
    (["init", "{tmp}/p", "--taxonomy", "{tmp}/missing.yaml"], "taxonomy file not found"),
    (["import", "coco", "{tmp}/p", "{tmp}/missing.json"], "no such file"),
    (["add", "{tmp}/p", "/etc/hostname"], "outside the project's image root"),
])
def test_bad_input_is_one_line(tmp_path, args, msg):
    if "init" not in args:
        xwb("init", tmp_path / "p")
    r = xwb(*[a.format(tmp=tmp_path) for a in args], ok=False)
    assert r.returncode == 1
    assert msg in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_every_subcommand_has_help():
    for cmd in ("init", "add", "info", "import", "export", "split"):
        assert "usage: xwb " + cmd in xwb(cmd, "--help").stdout
