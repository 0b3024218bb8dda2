"""A logged xwb model: rebuilds the network from JSON + safetensors, never unpickles.

This file is logged as MLflow "model from code" and executed on load, so it
imports only third-party packages (numpy, torch, smp, timm, safetensors). It
is also the one implementation of preprocessing and sliding-window inference
that training, evaluation, ``xwb predict`` and the workbench use.

Input of ``predict``: raw detector counts, float32 (B, C_raw, H, W), any batch
and scan size; params ``i0`` (open-beam counts per channel) and ``dark``.
Output: per-class probabilities, (B, K+1, H, W) for segmentation (channel 0
is background) or (B, K) for multi-label classification; for click-to-segment
(task interactive) (B, H, W) object probability given param ``clicks``
(x, y, 1 or 0 for positive or negative, flattened) in window pixels.
A volume model (task cls3d) takes stored CT values (B, C_raw, Z, Y, X) and
param ``rescale`` (slope, intercept to Hounsfield units) and gives (B, K).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

SPEC_VERSION = 1
MIN_INPUT = {"PAN": 128}  # architectures whose pooling needs a larger input than the usual 32 px


# ---------------------------------------------------------------- preprocessing
def attenuation(counts: np.ndarray, i0, dark: float) -> np.ndarray:
    """(C_raw, H, W) counts -> log attenuation -ln((I - dark) / I0), float32 >= 0."""
    c = np.asarray(counts, np.float32)
    i0 = np.asarray(i0, np.float32).reshape(-1, 1, 1)[: c.shape[0]]
    return np.maximum(-np.log(np.clip(c - np.float32(dark), 1.0, None) / i0), 0.0)


def darkness(pixels: np.ndarray, max_value: float) -> np.ndarray:
    """(3, H, W) pseudo-colour picture -> 1 - value / full scale per channel: 0 = white, where nothing is in
    the beam, so padding with 0 means open beam here as for counts."""
    return (1.0 - np.asarray(pixels, np.float32) / np.float32(max_value)).astype(np.float32)


def input_channels(att: np.ndarray, channels: list[str]) -> np.ndarray:
    """Pick/derive model input channels from the (C_raw, H, W) attenuation (or darkness, for colour)."""
    out = []
    for name in channels:
        if name in ("high", "red"):
            out.append(att[0])
        elif name in ("low", "green"):
            out.append(att[1])
        elif name == "blue":
            out.append(att[2])
        elif name == "diff":   # low minus high attenuation: the material (Z) signal
            out.append(att[1] - att[0])
        elif name == "soft":   # CT: density up to twice water's, where organics (drugs, tobacco, paper) differ
            out.append(np.minimum(att[0], 2.0))
        elif name == "peak":   # CT: density, resized by the densest voxel of each block (thin steel kept)
            out.append(att[0])
        elif name in MATERIAL_BANDS:  # CT: 1 where the voxel's density is that material's, else 0
            lo, hi = MATERIAL_BANDS[name]
            out.append(((att[0] >= lo) & (att[0] < hi)).astype(np.float32))
        else:
            raise ValueError(f"unknown input channel {name!r}")
    return np.stack(out).astype(np.float32)


def normalise(x: np.ndarray | torch.Tensor, pre: dict):
    """(C, ...) features minus the training mean over the training std, per channel (2-D or 3-D)."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    mean = np.asarray(pre["mean"], np.float32).reshape(shape)
    std = np.asarray(pre["std"], np.float32).reshape(shape)
    if isinstance(x, torch.Tensor):
        return (x - torch.as_tensor(mean, device=x.device)) / torch.as_tensor(std, device=x.device)
    return (x - mean) / std


# CT material bands by density relative to water (HU / 1000 + 1): resized by averaging, each channel says what
# share of a block is of that material, the local histogram that tells a drug brick (~1.2) from food (1.0)
MATERIAL_BANDS = {"m_foam": (0.1, 0.3), "m_leaf": (0.3, 0.55), "m_paper": (0.55, 0.93), "m_water": (0.93, 1.08),
                  "m_dense": (1.08, 1.6), "m_mineral": (1.6, 3.3), "m_glass": (3.3, 6.0), "m_metal": (6.0, 1e9)}


def ct_density(values: np.ndarray, rescale) -> np.ndarray:
    """Stored CT values (C, Z, Y, X) -> attenuation relative to water, float32 in [0, 16]: 0 air, 1 water,
    about 2.5 aluminium, 9 steel (clipped at 16); the file's rescale (slope, intercept) gives Hounsfield units,
    HU / 1000 + 1 this.
    The same ``diff`` (low minus high) as counts then carries the material signal of dual-energy CT."""
    slope, intercept = (float(rescale[0]), float(rescale[1])) if rescale is not None else (1.0, 0.0)
    hu = np.asarray(values, np.float32) * np.float32(slope) + np.float32(intercept)
    return np.clip(hu / np.float32(1000.0) + np.float32(1.0), 0.0, 16.0)


def features(counts_chw: np.ndarray, pre: dict, i0=None, dark=None, rescale=None) -> np.ndarray:
    """Raw counts (C_raw, H, W) -> un-normalised model channels (C_in, H, W), 0 = open beam; stored CT values
    (C_raw, Z, Y, X) of a volume model -> (C_in, Z, Y, X), 0 = air (``rescale``: the scan's own, else the
    training scans')."""
    if pre.get("kind") == "ct":
        return input_channels(ct_density(counts_chw, pre.get("rescale") if rescale is None else rescale),
                              pre["channels"])
    if pre.get("kind") == "colour":
        return input_channels(darkness(counts_chw, pre.get("max_value", 255.0)), pre["channels"])
    i0 = pre["default_i0"] if i0 is None else i0
    dark = pre.get("default_dark", 0.0) if dark is None else dark
    return input_channels(attenuation(counts_chw, i0, dark), pre["channels"])


# ---------------------------------------------------------------- network
def build_net(spec: dict, code: str | None = None) -> torch.nn.Module:
    """The network named by the spec, with fresh (or given) weights. ``code``: the source file of a network
    of the user's own (``spec["model"]["custom"]``): at training the user's file, in a logged model the copy
    that travels with it."""
    n_in = len(spec["preprocess"]["channels"])
    if spec["model"].get("custom"):
        return _custom_net(spec, code, n_in)
    return NETS[spec["task"]](spec, n_in)


def n_outputs(spec: dict) -> int:
    """Output channels of the network: the classes, plus background for per-pixel tasks; one (object or not)
    for click-to-segment."""
    if spec["task"] in CLICK_TASKS:
        return 1
    return len(spec["classes"]) + (1 if spec["task"] in PIXEL_TASKS else 0)


def _seg_net(spec: dict, n_in: int) -> torch.nn.Module:
    import segmentation_models_pytorch as smp

    m = spec["model"]
    return smp.create_model(m["arch"], encoder_name=m["encoder"], encoder_weights=None,
                            in_channels=n_in, classes=len(spec["classes"]) + 1)


def _click_net(spec: dict, n_in: int) -> torch.nn.Module:
    """A segmentation network that also sees two click maps (positive, negative) and says object or not."""
    import segmentation_models_pytorch as smp

    m = spec["model"]
    return smp.create_model(m["arch"], encoder_name=m["encoder"], encoder_weights=None,
                            in_channels=n_in + 2, classes=1)


def _cls_net(spec: dict, n_in: int) -> torch.nn.Module:
    m = spec["model"]
    if m["arch"] == "smp":  # an smp encoder with a classification head
        import segmentation_models_pytorch as smp

        net = smp.Unet(m["encoder"], encoder_weights=None, in_channels=n_in, classes=1,
                       aux_params={"classes": len(spec["classes"]), "dropout": m.get("dropout", 0.0),
                                   "pooling": m.get("pool", "avg")})
        return _SmpClassifier(net)
    import timm

    return timm.create_model(m["encoder"], pretrained=False, num_classes=len(spec["classes"]),
                             in_chans=n_in, drop_rate=m.get("dropout", 0.0), global_pool=m.get("pool", "avg"))


def _custom_net(spec: dict, code: str | None, n_in: int) -> torch.nn.Module:
    import hashlib
    import importlib.util

    c = spec["model"]["custom"]
    if not code:
        raise ValueError(f"the network {c['ref']} needs its source file, and none was given")
    data = Path(code).read_bytes()
    if hashlib.sha256(data).hexdigest() != c["sha256"]:
        raise ValueError(f"{code}: not the source the model was trained with (sha256 differs)")
    name = f"xwb_custom_{c['sha256'][:16]}"
    mspec = importlib.util.spec_from_file_location(name, code)
    module = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(module)
    return getattr(module, c["attr"])(in_channels=n_in, classes=n_outputs(spec))


# 3-D networks of task cls3d, by library (model.arch) and name (model.encoder)
MONAI_RESNETS = {"resnet10": [1, 1, 1, 1], "resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}
VOLUME_NETS = {"monai": [*MONAI_RESNETS, "densenet121", "seresnet50"],
               "torchvision": ["r3d_18", "mc3_18", "r2plus1d_18"]}
VOLUME_SEG_NETS = {"monai": ["unet", "basicunet", "segresnet"]}  # task seg3d


def _seg3d_net(spec: dict, n_in: int) -> torch.nn.Module:
    """A 3-D segmentation network of MONAI: UNet (residual units, ``model.width`` channels at the top, doubled
    at each of three levels), BasicUNet or SegResNet; K+1 output channels, 0 background."""
    from monai.networks import nets

    m = spec["model"]
    k, w = len(spec["classes"]) + 1, int(m.get("width") or 16)
    if m["encoder"] == "unet":
        return nets.UNet(spatial_dims=3, in_channels=n_in, out_channels=k, channels=(w, 2 * w, 4 * w, 8 * w),
                         strides=(2, 2, 2), num_res_units=1, dropout=m.get("dropout", 0.0))
    if m["encoder"] == "basicunet":
        return nets.BasicUNet(spatial_dims=3, in_channels=n_in, out_channels=k,
                              features=(w, w, 2 * w, 4 * w, 8 * w, w), dropout=m.get("dropout", 0.0))
    if m["encoder"] == "segresnet":
        return nets.SegResNet(spatial_dims=3, init_filters=w, in_channels=n_in, out_channels=k,
                              dropout_prob=m.get("dropout") or None)
    raise ValueError(f"unknown MONAI segmentation network {m['encoder']!r} (known: {', '.join(VOLUME_SEG_NETS['monai'])})")


def _cls3d_net(spec: dict, n_in: int) -> torch.nn.Module:
    """A 3-D classifier: MONAI's ResNet (``model.width``: channels of its first stage, 64 as published; a 3³
    first convolution, not the published 7³, which at full input resolution costs 13 times as much and with
    ten input channels was 3.5 s a step of 8 × 48³ here against 0.6 s), DenseNet121 or SEResNet50, or
    torchvision's video ResNets with their stem made for ``n_in`` channels."""
    m = spec["model"]
    k, enc, width = len(spec["classes"]), m["encoder"], int(m.get("width") or 0)
    if m["arch"] == "monai":
        from monai.networks import nets

        if enc in MONAI_RESNETS:
            w = width or 64
            net = nets.ResNet("basic", MONAI_RESNETS[enc], [w, 2 * w, 4 * w, 8 * w], spatial_dims=3,
                              n_input_channels=n_in, num_classes=k, conv1_t_size=3)
        elif enc == "densenet121":
            return nets.DenseNet121(spatial_dims=3, in_channels=n_in, out_channels=k, init_features=width or 64,
                                    dropout_prob=m.get("dropout", 0.0))
        elif enc == "seresnet50":
            return nets.SEResNet50(spatial_dims=3, in_channels=n_in, num_classes=k, inplanes=width or 64,
                                   dropout_prob=m.get("dropout") or None)
        else:
            raise ValueError(f"unknown MONAI network {enc!r} (known: {', '.join(VOLUME_NETS['monai'])})")
    elif m["arch"] == "torchvision":
        from torchvision.models import video

        if enc not in VOLUME_NETS["torchvision"]:
            raise ValueError(f"unknown torchvision video network {enc!r} (known: {', '.join(VOLUME_NETS['torchvision'])})")
        net = getattr(video, enc)(weights=None, num_classes=k)
        c = net.stem[0]
        net.stem[0] = torch.nn.Conv3d(n_in, c.out_channels, c.kernel_size, c.stride, c.padding, bias=False)
    else:
        raise ValueError(f"task cls3d builds monai or torchvision networks, not {m['arch']!r}")
    if m.get("pool") == "max":  # the strongest place decides: a small threat is not averaged away
        net.avgpool = torch.nn.AdaptiveMaxPool3d(1)
    return net


class _SmpClassifier(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.encoder = net.encoder
        self.head = net.classification_head

    def forward(self, x):
        return self.head(self.encoder(x)[-1])


# ---------------------------------------------------------------- inference
def tiling(n: int, tile: int, overlap: int, mult: int = 32, least: int = 32) -> tuple[int, list[int]]:
    """(tile size, starts) covering ``n`` pixels with about ``overlap`` px shared between neighbours.

    The tile count is the fewest that fit; the tile then shrinks (in steps of
    ``mult``) to spread them evenly, so a 2048-px side with 1024-px tiles costs
    3 x 736 px, not 3 x 1024: little more work than one pass over the pixels.
    """
    tile = max(least, tile // mult * mult)
    count = 1 if n <= tile else math.ceil((n - overlap) / (tile - overlap))
    t = max(least, min(tile, math.ceil(math.ceil((n + (count - 1) * overlap) / count) / mult) * mult))
    if count == 1:
        return t, [0]
    return t, [round(i * (n - t) / (count - 1)) for i in range(count)]


def blend_window(th: int, tw: int) -> np.ndarray:
    """Separable weights, highest in the middle, small but non-zero at the tile border."""
    def w1(n: int) -> np.ndarray:
        return np.clip(np.sin(np.pi * (np.arange(n) + 0.5) / n), 1e-3, None)
    return np.outer(w1(th), w1(tw)).astype(np.float32)


def _pad_to(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    ph, pw = h - x.shape[-2], w - x.shape[-1]
    return F.pad(x, (0, pw, 0, ph)) if ph or pw else x


@torch.no_grad()
def segment(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu", batch: int = 4,
            overlap: int | None = None, tile: int | None = None, channels_last: bool = False, **_) -> np.ndarray:
    """Sliding-window softmax probabilities (K+1, H, W) for one scan's features (C_in, H, W).

    Tiles overlap and are blended with a smooth window, so borders leave no seams;
    a scan smaller than a tile is padded with open beam to what the encoder needs.
    """
    tile = int(tile or spec["tile"])
    mult = int(spec.get("pad_multiple", 32))
    overlap = int(spec.get("overlap", 64) if overlap is None else overlap)
    c, h, w = feats.shape
    least = MIN_INPUT.get(spec["model"]["arch"], mult)
    th, ys = tiling(h, tile, overlap, mult, least)
    tw, xs = tiling(w, tile, overlap, mult, least)
    k = len(spec["classes"]) + 1
    hp, wp = max(h, th), max(w, tw)
    x = _pad_to(torch.from_numpy(np.ascontiguousarray(feats)), hp, wp)
    x = normalise(x, spec["preprocess"])
    acc = torch.zeros((k, hp, wp), dtype=torch.float32)
    wsum = torch.zeros((hp, wp), dtype=torch.float32)
    win = torch.from_numpy(blend_window(th, tw))
    boxes = [(y, x0) for y in ys for x0 in xs]
    was_training = net.training
    net.eval()
    for i in range(0, len(boxes), batch):
        part = boxes[i:i + batch]
        xb = torch.stack([x[:, y:y + th, x0:x0 + tw] for y, x0 in part]).to(device)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type="cuda", enabled=str(device).startswith("cuda")):
            p = torch.softmax(net(xb).float(), dim=1).cpu()
        for (y, x0), pi in zip(part, p):
            acc[:, y:y + th, x0:x0 + tw] += pi * win
            wsum[y:y + th, x0:x0 + tw] += win
    net.train(was_training)
    return (acc / wsum)[:, :h, :w].numpy()


def letterbox(feats: np.ndarray, size: int) -> np.ndarray:
    """Resize (C, H, W) so the long side is ``size`` and pad to a square with open beam (0)."""
    c, h, w = feats.shape
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    t = torch.from_numpy(np.ascontiguousarray(feats))[None]
    t = F.interpolate(t, size=(nh, nw), mode="area")[0]
    out = torch.zeros((c, size, size), dtype=torch.float32)
    out[:, :nh, :nw] = t
    return out.numpy()


@torch.no_grad()
def classify(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu") -> np.ndarray:
    """Multi-label probabilities (K,) for one scan's features (C_in, H, W)."""
    x = normalise(torch.from_numpy(letterbox(feats, int(spec["image_size"]))), spec["preprocess"])
    was_training = net.training
    net.eval()
    p = torch.sigmoid(net(x[None].to(device)).float())[0].cpu().numpy()
    net.train(was_training)
    return p


def letterbox3d(feats: np.ndarray, size: int, channels: list[str] | None = None) -> np.ndarray:
    """Resize (C, Z, Y, X) by one factor so the longest side is ``size`` and pad to a cube with air (0).
    Voxels are averaged (a small dense object fades but never vanishes), except in a ``peak`` channel,
    which keeps the densest voxel of each block: a 2 mm blade in 1 cm voxels stays steel there."""
    c, *dims = feats.shape
    s = size / max(dims)
    new = [max(1, round(n * s)) for n in dims]
    t = torch.from_numpy(np.ascontiguousarray(feats, np.float32))[None]
    if new != dims:
        avg = F.interpolate(t, size=tuple(new), mode="area")
        peak = [i for i, n in enumerate(channels or []) if n == "peak"]
        if peak:
            avg[:, peak] = F.adaptive_max_pool3d(t[:, peak], tuple(new))
        t = avg[0]
    else:
        t = t[0]
    out = torch.zeros((c, size, size, size), dtype=torch.float32)
    out[:, :new[0], :new[1], :new[2]] = t
    return out.numpy()


@torch.no_grad()
def classify3d(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu", **_) -> np.ndarray:
    """Multi-label probabilities (K,) for one volume's features (C_in, Z, Y, X)."""
    x = normalise(torch.from_numpy(letterbox3d(feats, int(spec["volume_size"]), spec["preprocess"]["channels"])),
                  spec["preprocess"])
    was_training = net.training
    net.eval()
    p = torch.sigmoid(net(x[None].to(device)).float())[0].cpu().numpy()
    net.train(was_training)
    return p


@torch.no_grad()
def segment3d(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu", batch: int = 4, **_) -> np.ndarray:
    """Softmax probabilities (K+1, Z, Y, X) of one volume's features (C_in, Z, Y, X): cubes of the training
    cubes' side (``volume_tile``) overlapping by a quarter, blended with a Gaussian window (MONAI's sliding
    window); the volume is padded with air to a whole cube where it is smaller."""
    from monai.inferers import sliding_window_inference

    t = int(spec["volume_tile"])  # the training cubes' side
    c, *dims = feats.shape
    padded = [max(n, t) for n in dims]
    f = np.zeros((c, *padded), np.float32)
    f[:, :dims[0], :dims[1], :dims[2]] = feats
    x = normalise(torch.from_numpy(f), spec["preprocess"])[None].to(device)
    was_training = net.training
    net.eval()
    p = sliding_window_inference(x, (t, t, t), batch, lambda b: torch.softmax(net(b).float(), 1), overlap=0.25,
                                 mode="gaussian")
    net.train(was_training)
    return p[0, :, :dims[0], :dims[1], :dims[2]].cpu().numpy()


# ---------------------------------------------------------------- per task
# The one place a logged model tells tasks apart (it cannot import xwb's task registry, training/tasks):
# how the network is built and how it is run on one scan's features. A new task adds a line to each.
NETS = {"seg": _seg_net, "cls": _cls_net, "interactive": _click_net, "cls3d": _cls3d_net, "seg3d": _seg3d_net}
VOLUME_TASKS = {"cls3d", "seg3d"}  # inputs (C, Z, Y, X) of stored CT values
PIXEL_TASKS = {"seg", "seg3d"}  # (K+1, H, W) output, channel 0 background
CLICK_TASKS = {"interactive"}  # (H, W) object probability from features and clicks


def _classify(net, feats, spec, device="cpu", **_):
    return classify(net, feats, spec, device)


CLICK_RADIUS = 5  # px, as RITM encodes clicks


def click_maps(clicks, h: int, w: int, radius: int = CLICK_RADIUS) -> np.ndarray:
    """(2, h, w) float32: disks of ``radius`` px at the positive and at the negative clicks (x, y, positive)."""
    out = np.zeros((2, h, w), np.float32)
    yy, xx = np.ogrid[:h, :w]
    for x, y, positive in clicks:
        out[0 if positive else 1][(yy - y) ** 2 + (xx - x) ** 2 <= radius * radius] = 1.0
    return out


@torch.no_grad()
def click_segment(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu", clicks=(), **_) -> np.ndarray:
    """Object probability (H, W) for one window's features (C_in, H, W) and clicks in window pixels; the
    window is padded with open beam to a multiple of 32."""
    c, h, w = feats.shape
    mult = int(spec.get("pad_multiple", 32))
    hp, wp = -(-h // mult) * mult, -(-w // mult) * mult
    x = normalise(_pad_to(torch.from_numpy(np.ascontiguousarray(feats)), hp, wp), spec["preprocess"])
    maps = torch.from_numpy(click_maps(clicks, hp, wp))
    was_training = net.training
    net.eval()
    with torch.autocast(device_type="cuda", enabled=str(device).startswith("cuda")):
        p = torch.sigmoid(net(torch.cat([x, maps])[None].to(device)).float())[0, 0].cpu().numpy()
    net.train(was_training)
    return p[:h, :w]


RUNNERS = {"seg": segment, "cls": _classify, "interactive": click_segment, "cls3d": classify3d,
           "seg3d": segment3d}


def run(net: torch.nn.Module, feats: np.ndarray, spec: dict, device="cpu", **kw) -> np.ndarray:
    """The task's probabilities for one scan's features: ``segment`` or ``classify`` (keywords they do not
    take, e.g. ``batch`` for a classifier, are ignored)."""
    try:
        runner = RUNNERS[spec["task"]]
    except KeyError:
        raise ValueError(f"this model code does not know task {spec['task']!r} (tasks: {', '.join(RUNNERS)})") from None
    return runner(net, feats, spec, device, **kw)


# ---------------------------------------------------------------- MLflow pyfunc
try:
    import mlflow.pyfunc as _pyfunc

    _Base = _pyfunc.PythonModel
except ImportError:  # pragma: no cover - training always has mlflow
    _Base = object


class ScanModel(_Base):
    """The pyfunc face of an xwb model: raw counts in, probabilities out."""

    spec: dict
    net: torch.nn.Module

    def load_context(self, context) -> None:
        from safetensors.torch import load_file

        with open(context.artifacts["spec"]) as f:
            self.spec = json.load(f)
        if self.spec.get("xwb_model") != SPEC_VERSION:
            raise ValueError(f"model spec version {self.spec.get('xwb_model')} is not {SPEC_VERSION}")
        self.net = build_net(self.spec, context.artifacts.get("custom_code"))
        self.net.load_state_dict(load_file(context.artifacts["weights"]))
        self.net.eval()

    def predict(self, context, model_input: np.ndarray, params: dict | None = None) -> np.ndarray:
        params = params or {}
        if isinstance(model_input, dict):  # a named tensor spec arrives as {"counts": array}
            model_input = model_input.get("counts", next(iter(model_input.values())))
        x = np.asarray(model_input, np.float32)
        if x.ndim == (4 if self.spec["task"] in VOLUME_TASKS else 3):
            x = x[None]
        i0 = params.get("i0") or None
        dark = params.get("dark")
        rescale = params.get("rescale") or None
        c = list(params.get("clicks") or [])  # click-to-segment: x, y, 1/0 (positive/negative) flattened
        clicks = [(int(c[k]), int(c[k + 1]), bool(c[k + 2])) for k in range(0, len(c) - 2, 3)]
        outs = []
        for counts in x:
            f = features(counts, self.spec["preprocess"], i0, dark, rescale)
            outs.append(run(self.net, f, self.spec, clicks=clicks))
        return np.stack(outs)


try:
    from mlflow.models import set_model

    set_model(ScanModel())
except ImportError:  # pragma: no cover
    pass
