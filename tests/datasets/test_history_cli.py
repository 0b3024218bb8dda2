"""``xwb history``: who changed which label, when, from which program, from what to what."""
import json

import numpy as np

from datasets.project import Project
from datasets.regions import Region
from tests.conftest import write_scans
from workbench.cli import main

TRI = np.array([[0, 0], [9, 0], [9, 9.0]])


def test_history_lists_changes_filters_them_and_refuses_bad_options_in_one_line(tmp_path, capsys):
    folder = tmp_path / "p"
    assert main(["init", str(folder)]) == 0
    write_scans(folder / "images", 2)
    assert main(["add", str(folder), str(folder / "images")]) == 0
    with Project.open(folder) as p:
        first, second = p.images()
        p.store.set_actor("ann", "workbench")
        rid = p.store.add_region(first.id, Region(1, polygon=TRI))
        p.store.update_region(p.store.region(rid).copy(class_id=2))
    capsys.readouterr()
    assert main(["history", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all("xwb add  image.create" in ln for ln in lines[:2])
    assert lines[3].endswith(f"ann  workbench  region.update  {first.path}  region {rid}  class_id 1 -> 2")
    assert main(["history", str(folder), "--image", second.path]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["history", str(folder), "--who", "ann", "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in rows] == ["region.create", "region.update"] and rows[1]["after"]["class_id"] == 2
    assert main(["history", str(folder), "--who", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "no changes recorded that match"
    assert main(["history", str(folder), "--since", "last week"]) == 1
    assert main(["history", str(folder), "--image", "images/none.tiff"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "--since 'last week'" in err[0] and "no such scan" in err[1]
