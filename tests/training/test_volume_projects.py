"""A 2-D task on a project that holds volumes."""
from datasets.project import Project
from workbench.cli import main


def _xwb(*args) -> int:
    return main([str(a) for a in args])


def test_a_2d_task_leaves_volumes_out_and_says_so(tmp_path, caplog):
    from training import tasks
    from training.loop.data import load_items

    p_dir = tmp_path / "ct"
    assert _xwb("synth", p_dir, "--kind", "ct-baggage", "--count", "2", "--size", "32x32x48") == 0
    with Project.open(p_dir) as p:
        names = [c.name for c in p.taxonomy.classes]
        with caplog.at_level("WARNING"):
            items = [it for s in ("train", "val", "test") for it in load_items(p, s, names, tasks.get("seg"))]
    assert items == [] and "volume" in caplog.text and "task seg trains on 2-D scans" in caplog.text
