"""Your own network and loss from a file outside the package: trained, registered, and loaded in a fresh
process that has never seen the file (issue 15, item 6)."""
import shutil
import subprocess
import sys
import textwrap

import pytest

from datasets.errors import XwbError
from tests.conftest import REPO
from tests.training.conftest import TINY, client_for
from training import tasks

NETS = textwrap.dedent('''
    import torch

    class TinyNet(torch.nn.Module):
        """Two convolutions: enough to show a network of one's own trains and predicts."""

        def __init__(self, in_channels: int, classes: int):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Conv2d(in_channels, 8, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(8, classes, 1))

        def forward(self, x):
            return self.body(x)

    def soft_dice(logits, target):
        """A loss of one's own: 1 - soft Dice over the classes present, "don't care" pixels left out."""
        k = logits.shape[1]
        keep = (target != 255).unsqueeze(1)
        p = torch.softmax(logits, 1) * keep
        t = torch.nn.functional.one_hot(target.clamp(max=k - 1), k).permute(0, 3, 1, 2) * keep
        inter = (p * t).sum((0, 2, 3))
        return 1 - ((2 * inter + 1) / (p.sum((0, 2, 3)) + t.sum((0, 2, 3)) + 1)).mean()
''')


def test_own_network_and_loss_train_register_and_predict_in_a_fresh_process(synth, tmp_path):
    from training.loop.run import train

    ext = tmp_path / "outside"
    ext.mkdir()
    (ext / "mynets.py").write_text(NETS)
    r = train(TINY, synth, ["optim.epochs=1", "eval.overlays=0", f"model.arch={ext}/mynets.py:TinyNet",
                            f"loss.name={ext}/mynets.py:soft_dice"], quiet=True)
    assert r.version == "1"
    c = client_for(synth)
    tags = c.get_run(r.run_id).data.tags
    assert tags["xwb.custom_arch"].endswith("mynets.py:TinyNet") and tags["xwb.custom_loss"].endswith(":soft_dice")
    assert len(tags["xwb.custom_arch_sha256"]) == 64
    shutil.rmtree(ext)  # the version must carry its network's source: nothing outside it is left
    scan = sorted((synth / "images").glob("*.tiff"))[0]
    code = textwrap.dedent(f'''
        from training.inference.predict import load_predictor
        from training.versions.tracking import default_uri
        p = load_predictor("models:/bag-seg/1", tracking_uri=default_uri({str(synth)!r}))
        out = p.predict_scan({str(scan)!r})
        print(type(p.net).__name__, out.probs.shape[0] == len(p.classes) + 1)
    ''')
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["TinyNet", "True"]


@pytest.mark.parametrize("ref,msg", [
    ("{d}/missing.py:Net", "no file"),
    ("{d}/mynets.py:NoSuchNet", "has no 'NoSuchNet'"),
    ("no_such_module_xyz:Net", "module 'no_such_module_xyz' cannot be found"),
])
def test_a_bad_reference_is_refused_before_training(tmp_path, ref, msg):
    from training.nets import models

    (tmp_path / "mynets.py").write_text(NETS)
    with pytest.raises(XwbError, match=msg) as e:
        models.check_names(tasks.get("seg"), ref.format(d=tmp_path), "resnet18")
    assert "\n" not in str(e.value)
