"""Networks by name: smp architectures/encoders for segmentation, timm (or smp encoders) for tags.

Names are checked before anything is built, so a typo lists the valid names
instead of failing deep inside a library. Pretrained weights never trigger a
silent download: a local file is loaded; a hub name needs XWB_ALLOW_DOWNLOAD=1.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import torch

from datasets.errors import XwbError
from training import model_code


# smp architectures xwb cannot train, and why (they are not listed by `xwb models`)
UNUSABLE = {"DPT": "DPT takes only timm ViT encoders, whose input size is fixed; xwb trains on crops and predicts "
                   "on tiles of varying size"}


def seg_architectures() -> list[str]:
    import segmentation_models_pytorch as smp

    return sorted(cls.__name__ for cls in smp.MODEL_ARCHITECTURES_MAPPING.values() if cls.__name__ not in UNUSABLE)


def seg_encoders() -> list[str]:
    from segmentation_models_pytorch import encoders

    return sorted(encoders.get_encoder_names())


def cls_backbones() -> list[str]:
    import timm

    return sorted(timm.list_models())


def _unknown(kind: str, name: str, valid: list[str], key: str, full: bool) -> XwbError:
    if full:
        return XwbError(f"{key}: unknown {kind} {name!r}; valid: {', '.join(valid)}")
    close = difflib.get_close_matches(name, valid, n=8, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return XwbError(f"{key}: unknown {kind} {name!r}{hint} ({len(valid)} valid names: `xwb models --{kind.split()[0]}` lists them)")


def check_names(task: str, arch: str, encoder: str) -> None:
    if task == "seg":
        archs = seg_architectures()
        for name, why in UNUSABLE.items():
            if arch.lower() == name.lower():
                raise XwbError(f"model.arch: {name} cannot be used: {why}; valid: {', '.join(archs)}")
        lower = {a.lower(): a for a in archs}
        if arch.lower() not in lower:
            raise _unknown("architecture", arch, archs, "model.arch", full=True)
        encoders = seg_encoders()
        if encoder.startswith("tu-"):  # any timm model as an smp encoder ("timm universal")
            import timm

            if encoder[3:] not in timm.list_models():
                raise _unknown("timm model", encoder[3:], timm.list_models(), "model.encoder (tu-NAME)", full=False)
        elif encoder not in encoders:
            raise _unknown("encoder", encoder, encoders, "model.encoder", full=False)
    else:
        if arch not in ("timm", "smp"):
            raise XwbError(f"model.arch: task cls uses 'timm' (a timm backbone) or 'smp' (an smp encoder), got {arch!r}")
        valid = cls_backbones() if arch == "timm" else seg_encoders()
        if encoder not in valid:
            raise _unknown("backbone" if arch == "timm" else "encoder", encoder, valid, "model.encoder", full=False)


def check_buildable(task: str, arch: str, encoder: str, size: int) -> None:
    """Build the pair once and run it on two input sizes, before any data is loaded: a pair the library does
    not support, or an encoder that takes one input size only (training crops and inference tiles vary),
    is one line naming both, not a traceback after minutes of loading."""
    import warnings

    spec = {"task": task, "model": {"arch": canonical_arch(arch) if task == "seg" else arch, "encoder": encoder},
            "preprocess": {"channels": ["high", "low", "diff"]}, "classes": ["a", "b"]}
    what = f"model.arch {arch} with model.encoder {encoder}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = model_code.build_net(spec)
    except Exception as e:
        hint = ("; DPT takes timm encoders (tu-NAME)" if canonical_arch(arch) == "DPT" else
                "; `xwb models --encoder` lists encoders, and tu-NAME names any timm model")
        raise XwbError(f"{what} cannot be built: {_first(e)}{hint if task == 'seg' else ''}") from None
    net.eval()
    sizes = [(size, size), (size + 32, size + 64)] if task == "seg" else [(size, size)]
    for h, w in sizes:
        try:
            with torch.no_grad():
                net(torch.zeros(1, 3, h, w))
        except Exception as e:
            raise XwbError(f"{what} does not take a {h}x{w} input ({_first(e)}); xwb trains on crops and predicts "
                           "on tiles of varying size: choose an encoder without a fixed input size") from None


def _first(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0][:200]}" if s else type(e).__name__


def canonical_arch(arch: str) -> str:
    lower = {a.lower(): a for a in seg_architectures()}
    return lower.get(arch.lower(), arch)


def _load_local(net: torch.nn.Module, path: Path, task: str) -> None:
    """Load encoder/backbone weights from a local .safetensors or .pth state dict."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
    target = getattr(net, "encoder", net)
    own = target.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise XwbError(f"model.encoder_weights: {path}: no tensor matches the {task} encoder's names and shapes")
    target.load_state_dict(matched, strict=False)
    skipped = len(own) - len(matched)
    if skipped:
        print(f"encoder weights: loaded {len(matched)} tensors from {path.name}, {skipped} left as initialised "
              "(e.g. a first conv with another channel count)")


def _hub_weights(spec: dict, name: str) -> torch.nn.Module:
    """Build with hub weights; only when downloads are allowed (or the files are cached)."""
    m = spec["model"]
    n_in = len(spec["preprocess"]["channels"])
    try:
        if spec["task"] == "seg":
            import segmentation_models_pytorch as smp

            return smp.create_model(m["arch"], encoder_name=m["encoder"], encoder_weights=name,
                                    in_channels=n_in, classes=len(spec["classes"]) + 1)
        import timm

        return timm.create_model(m["encoder"], pretrained=True, num_classes=len(spec["classes"]), in_chans=n_in)
    except Exception as e:  # network errors come in many types; all mean the same to the user
        raise XwbError(f"model.encoder_weights: {name!r} could not be loaded ({type(e).__name__}: "
                       f"{str(e).splitlines()[0][:160] if str(e) else ''}); with no network use a local file "
                       "(encoder_weights: path/to/weights.safetensors) or null") from None


def create(spec: dict, weights: str | None) -> torch.nn.Module:
    """Build the spec's network; ``weights`` as in ``model.encoder_weights``."""
    if weights is None or str(weights).lower() in ("none", "null", ""):
        return model_code.build_net(spec)
    path = Path(weights).expanduser()
    if path.suffix in (".safetensors", ".pth", ".pt", ".bin") or path.exists():
        if not path.is_file():
            raise XwbError(f"model.encoder_weights: {path}: file not found")
        net = model_code.build_net(spec)
        _load_local(net, path, spec["task"])
        return net
    if os.environ.get("XWB_ALLOW_DOWNLOAD") != "1":
        raise XwbError(f"model.encoder_weights: {weights!r} needs a download and xwb does not use the network "
                       "by default; give a local weights file, use null, or set XWB_ALLOW_DOWNLOAD=1")
    return _hub_weights(spec, str(weights))
