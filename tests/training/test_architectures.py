"""One suite over every architecture a recipe may name: build by name, any input size, seam-free tiles."""
import numpy as np
import pytest
import torch

from training import tasks
from training.nets import model_code, models

SEG = [("Unet", "resnet18"), ("UnetPlusPlus", "resnet18"), ("FPN", "mobilenet_v2"), ("DeepLabV3", "resnet18"),
       ("DeepLabV3Plus", "resnet18"), ("PSPNet", "resnet18"), ("Linknet", "resnet18"), ("PAN", "resnet18"),
       ("MAnet", "resnet18"), ("UPerNet", "resnet18"), ("Segformer", "resnet18")]


def _spec(task, arch, encoder, channels=("high", "low", "diff"), classes=("gun", "knife")):
    return {"xwb_model": 1, "task": task, "model": {"arch": arch, "encoder": encoder},
            "classes": list(classes), "tile": 64, "overlap": 16, "pad_multiple": 32, "image_size": 64,
            "preprocess": {"channels": list(channels), "raw_channels": 2, "default_i0": [60000.0, 60000.0],
                           "default_dark": 0.0, "mean": [0.0] * len(channels), "std": [1.0] * len(channels)}}


def test_every_smp_architecture_is_covered():
    assert {a for a, _ in SEG} >= set(models.seg_architectures())
    assert "DPT" not in models.seg_architectures()  # listed only if xwb can train it


@pytest.mark.parametrize("arch,encoder", SEG + [("Unet", "tu-resnet18"), ("FPN", "tu-mobilenetv3_small_100")],
                         ids=[a for a, _ in SEG] + ["Unet-tu-resnet18", "FPN-tu-mobilenetv3"])
def test_every_listed_pair_builds_and_takes_varying_sizes(arch, encoder):
    models.check_names(tasks.get("seg"), arch, encoder)
    models.check_buildable(tasks.get("seg"), arch, encoder, 128)


@pytest.mark.parametrize("arch,encoder,msg", [
    ("UnetPlusPlus", "mit_b0", "model.arch UnetPlusPlus with model.encoder mit_b0 cannot be built: ValueError: "
                               "UnetPlusPlus is not support encoder_name=mit_b0"),
    ("DPT", "resnet18", "model.arch: DPT cannot be used: DPT takes only timm ViT encoders"),
    ("Unet", "tu-no_such_net", "unknown timm model 'no_such_net'"),
])
def test_pairs_the_library_refuses_are_one_line_before_training(arch, encoder, msg):
    from datasets.errors import XwbError

    with pytest.raises(XwbError) as e:
        models.check_names(tasks.get("seg"), arch, encoder)
        models.check_buildable(tasks.get("seg"), arch, encoder, 128)
    assert msg in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("arch,encoder", SEG, ids=[a for a, _ in SEG])
def test_segmentation_architectures(arch, encoder):
    models.check_names(tasks.get("seg"), arch, encoder)
    spec = _spec("seg", arch, encoder)
    torch.manual_seed(0)
    net = models.create(spec, None)
    feats = np.random.default_rng(0).random((3, 70, 90)).astype(np.float32)  # not a multiple of 32
    p = model_code.segment(net, feats, spec)
    assert p.shape == (3, 70, 90)
    np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-4)


@pytest.mark.parametrize("arch,encoder", [("timm", "resnet18"), ("timm", "mobilenetv3_small_050"), ("smp", "resnet18")])
def test_classification_backbones(arch, encoder):
    models.check_names(tasks.get("cls"), arch, encoder)
    spec = _spec("cls", arch, encoder, channels=("high", "low"))
    net = models.create(spec, None)
    p = model_code.classify(net, np.random.default_rng(0).random((2, 50, 130)).astype(np.float32), spec)
    assert p.shape == (2,) and ((p >= 0) & (p <= 1)).all()


def test_tiles_leave_no_seams():
    """One tile over the whole scan and many overlapping tiles give the same labels away from the border."""
    torch.manual_seed(0)
    spec = _spec("seg", "Unet", "resnet18")
    net = models.create(spec, None).eval()
    rng = np.random.default_rng(1)
    # smooth structure, so the untrained net's labels have extent instead of pixel noise
    import cv2

    feats = np.stack([cv2.GaussianBlur(rng.random((256, 320)).astype(np.float32), (0, 0), 6) * 8 for _ in range(3)])
    whole = model_code.segment(net, feats, spec, tile=384, overlap=0).argmax(0)
    tiled = model_code.segment(net, feats, spec, tile=96, overlap=48).argmax(0)
    inner = (slice(16, -16), slice(16, -16))
    agree = (whole[inner] == tiled[inner]).mean()
    assert agree > 0.97, agree
    naive = model_code.segment(net, feats, spec, tile=96, overlap=0).argmax(0)
    assert (whole[inner] == naive[inner]).mean() <= agree  # blending beats butting tiles edge to edge


def test_tiling_covers_evenly_with_little_extra_work():
    for n, tile, ov in [(2048, 1024, 64), (8192, 1024, 64), (768, 1024, 64), (100, 64, 16), (1000, 256, 32)]:
        t, starts = model_code.tiling(n, tile, ov)
        assert t % 32 == 0 and t <= max(tile, 32)
        assert starts[0] == 0 and starts[-1] + t >= n          # covered to the end
        assert all(b - a <= t - ov for a, b in zip(starts, starts[1:]))  # neighbours share >= overlap
        if n > t:
            assert len(starts) * t / n < 1.3
    assert model_code.tiling(2048, 1024, 64) == (736, [0, 656, 1312])


def test_a_pretrained_first_convolution_is_adapted_to_the_input_channels(tmp_path):
    """A 3-channel (RGB) encoder file loaded into a 2-channel (high, low) network: the first convolution is
    adapted (repeated and scaled), not thrown away, and every encoder tensor is used."""
    import segmentation_models_pytorch as smp
    from safetensors.torch import save_file

    torch.manual_seed(0)
    rgb = smp.Unet("resnet18", encoder_weights=None, in_channels=3, classes=2).encoder
    save_file({k: v.contiguous() for k, v in rgb.state_dict().items()}, str(tmp_path / "resnet18.safetensors"))
    spec = _spec("seg", "Unet", "resnet18", channels=("high", "low"))
    net = models.create(spec, str(tmp_path / "resnet18.safetensors"))
    init = spec["init"]
    assert init["adapted"] == 1 and init["loaded"] == len(rgb.state_dict())
    w3, w2 = rgb.state_dict()["conv1.weight"], net.state_dict()["encoder.conv1.weight"]
    assert w2.shape[1] == 2 and torch.allclose(w2.sum(1), w3.sum(1), atol=1e-6)  # same response to flat input
    assert torch.allclose(models.adapt_conv(w3, 1)[:, 0], w3.sum(1))
