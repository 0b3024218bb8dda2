"""Parts by name: tasks (training/tasks/) and losses (training/nets/losses.py) are the one place each differs.

The structural test reads the source: a module of training/ that compares a task's name is a branch the
next task would have to find and edit, which is what the registries are for.
"""
import ast

import pytest

from datasets.errors import XwbError
from tests.conftest import REPO
from training import tasks
from training.nets import losses, model_code
from training.recipes.config import parse_config

# the task registry itself, the code a logged model carries (it cannot import xwb), the loss table
# and the demo, which trains one model of each shipped task by design
ALLOWED = {"training/tasks", "training/nets/model_code.py", "training/nets/losses.py", "workbench/demo.py"}


def _task_name_comparisons(path, names, root=REPO):
    tree = ast.parse(path.read_text())
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            consts = [c for p in parts for c in ([p] if not isinstance(p, (ast.Tuple, ast.List, ast.Set))
                                                  else p.elts) if isinstance(c, ast.Constant)]
            if any(c.value in names for c in consts):
                hits.append((node.lineno, f"{path.relative_to(root)}:{node.lineno}"))
        elif isinstance(node, ast.Dict) and len(node.keys) > 1 and all(
                isinstance(k, ast.Constant) and k.value in names for k in node.keys):  # {"seg": .., "cls": ..}
            hits.append((node.lineno, f"{path.relative_to(root)}:{node.lineno}"))
    return [h for _, h in sorted(hits)]


def test_no_module_outside_the_registries_tells_tasks_apart_by_name():
    names = set(tasks.names())
    hits = []
    for pkg in ("training", "workbench"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            if any(rel == a or rel.startswith(a + "/") for a in ALLOWED):
                continue
            hits += _task_name_comparisons(path, names)
    assert hits == [], f"task names compared outside training/tasks: {hits}"


def test_the_structural_check_finds_a_branch(tmp_path):
    f = tmp_path / "branch.py"
    f.write_text('def f(cfg):\n    return 1 if cfg.task == "seg" else 2\n\n\nPRIMARY = {"seg": 1, "cls": 2}\n')
    assert _task_name_comparisons(f, {"seg", "cls"}, tmp_path) == ["branch.py:2", "branch.py:5"]


def test_every_task_has_a_network_and_a_runner_in_the_model_code():
    for name in tasks.names():
        t = tasks.get(name)
        assert name in model_code.NETS and name in model_code.RUNNERS, name
        spatial = 3 if t.volumes else 2
        # (B, K+1, [Z,] H, W) per pixel or voxel; (B, H, W) object probability of a click model; (B, K) tags
        want = 2 + spatial if name in model_code.PIXEL_TASKS else 1 + spatial if t.answers_clicks else 2
        assert len(t.outputs(3)) == want, name
        assert t.volumes == (name in model_code.VOLUME_TASKS), name
        assert t.monitor in t.val_metrics and t.help and t.labels in ("classes", "tags")
        assert losses.names(name), f"task {name} has no loss"


def test_unknown_task_says_did_you_mean():
    with pytest.raises(XwbError, match=r"r.yaml: task: unknown task 'sge'; did you mean 'seg'\? \(tasks: seg, cls"):
        parse_config({"task": "sge"}, "r.yaml")
    with pytest.raises(XwbError, match=r"^--set task=clss: task: unknown task 'clss'"):
        parse_config({"task": "seg"}, "r.yaml", ["task=clss"])


def test_a_registered_loss_is_accepted_by_recipes_built_by_the_loop_and_documented():
    from training.loop.trainer import make_loss
    from training.recipes import reference

    calls = []

    @losses.register("probe_l1", ("seg",), "mean absolute error of the softmax (a test's)")
    def _probe(task, cfg):
        import torch

        def loss(logits, target):
            calls.append(task)
            onehot = torch.nn.functional.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()
            return (logits.softmax(1) - onehot).abs().mean()
        return loss

    try:
        cfg = parse_config({"task": "seg", "loss": {"name": "probe_l1"}}, "r.yaml")
        import torch

        value = make_loss(cfg)(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
        assert calls == ["seg"] and abs(float(value) - (2 / 3 + 2 / 3) / 3) < 1e-6
        assert "| `probe_l1` | seg | mean absolute error" in reference.markdown()
        with pytest.raises(XwbError, match=r"--set task=cls: loss.name: probe_l1 is for task seg; task cls uses "
                                           r"focal or bce"):
            parse_config({"task": "seg", "loss": {"name": "probe_l1"}}, "r.yaml", ["task=cls"])
    finally:
        losses._LOSSES.pop("probe_l1")
    with pytest.raises(XwbError, match="'probe_l1' is not one of"):
        parse_config({"task": "seg", "loss": {"name": "probe_l1"}}, "r.yaml")


def test_a_registered_task_is_asked_not_branched_on():
    """A new task is one subclass: recipes accept it and training asks it for its metrics and monitor."""
    from training.loop.run import _val_keys

    class Counting(tasks.Task):
        name, help, labels = "count", "objects per class (a test's)", "classes"
        monitor, val_metrics, key_metrics = "mAE", ("mAE", "mRelErr"), ("mAE",)

    tasks.register(Counting())

    @losses.register("probe_mse", ("count",), "squared error of the counts (a test's)")
    def _mse(task, cfg):
        import torch

        return torch.nn.MSELoss()
    try:
        cfg = parse_config({"task": "count", "loss": {"name": "probe_mse"}}, "r.yaml")
        assert cfg.monitor == "val_mAE"
        assert _val_keys(cfg) == ["val_mAE", "val_mRelErr", "val_mPd_pfa1", "val_mPd_pfa5"]
        from training.evaluation.review import key_metrics

        assert key_metrics(tasks.get("count")) == ["mAE", "mPd_pfa1", "mPd_pfa5"]
    finally:
        tasks._TASKS.pop("count")
        losses._LOSSES.pop("probe_mse")


def test_using_is_safe_across_threads():
    """Two threads pointing MLflow at two stores at once (the Models panel lists versions while a pre-label
    runs) must neither see each other's URI inside their blocks nor leave one in the environment after."""
    import os
    import threading

    import mlflow

    from training.versions.tracking import using

    os.environ.pop("MLFLOW_TRACKING_URI", None)
    seen, start = [], threading.Barrier(2)

    def job(uri: str) -> None:
        start.wait()
        for _ in range(200):
            with using(uri):
                seen.append(mlflow.get_tracking_uri() == uri and os.environ.get("MLFLOW_TRACKING_URI") in (uri, None))

    threads = [threading.Thread(target=job, args=(f"sqlite:////tmp/xwb-race-{k}.db",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(seen) and len(seen) == 400
    assert "MLFLOW_TRACKING_URI" not in os.environ
