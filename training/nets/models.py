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
from training import tasks
from training.nets import model_code
from training.tasks.base import Task

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


def unknown(kind: str, name: str, valid: list[str], key: str, full: bool) -> XwbError:
    if full:
        return XwbError(f"{key}: unknown {kind} {name!r}; valid: {', '.join(valid)}")
    close = difflib.get_close_matches(name, valid, n=8, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return XwbError(f"{key}: unknown {kind} {name!r}{hint} "
                    f"({len(valid)} valid names: `xwb models --{kind.split()[0]}` lists them)")


def _code(spec: dict) -> str | None:
    """The source file of a network of the user's own, while training (see ``training.recipes.custom``)."""
    c = spec["model"].get("custom")
    return c.get("source") if c else None


def check_names(task: Task, arch: str, encoder: str) -> None:
    from training.recipes import custom

    if custom.is_custom(arch):
        custom.resolve(arch, "model.arch")
        return
    task.check_model(arch, encoder)


def custom_spec(arch: str) -> dict | None:
    """What a spec records of a network of the user's own (None for xwb's own architectures)."""
    from training.recipes import custom

    if not custom.is_custom(arch):
        return None
    ref = custom.resolve(arch, "model.arch")
    return {"ref": ref.ref, "file": ref.source.name, "attr": ref.attr, "sha256": ref.sha256,
            "source": str(ref.source)}


def check_buildable(kind: Task, arch: str, encoder: str, size: int) -> None:
    """Build the pair once and run it on two input sizes, before any data is loaded: a pair the library does
    not support, or an encoder that takes one input size only (training crops and inference tiles vary),
    is one line naming both, not a traceback after minutes of loading."""
    import warnings

    spec = {"task": kind.name, "model": {"arch": kind.spec_arch(arch), "encoder": encoder,
                                    "custom": custom_spec(arch)},
            "preprocess": {"channels": ["high", "low", "diff"]}, "classes": ["a", "b"]}
    n_in = kind.input_channels(3)
    what = f"model.arch {arch} with model.encoder {encoder}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = model_code.build_net(spec, _code(spec))
    except Exception as e:
        raise XwbError(f"{what} cannot be built: {_first(e)}{kind.build_hint(arch)}") from None
    net.eval()
    for dims in kind.probe_sizes(size):
        try:
            with torch.no_grad():
                net(torch.zeros(1, n_in, *dims))
        except Exception as e:
            raise XwbError(f"{what} does not take a {'x'.join(map(str, dims))} input ({_first(e)}); xwb trains on "
                           "crops and predicts on tiles of varying size: choose an encoder without a fixed input "
                           "size") from None


def _first(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return f"{type(e).__name__}: {s[0][:200]}" if s else type(e).__name__


def canonical_arch(arch: str) -> str:
    if ":" in arch:  # a network of the user's own
        return arch
    lower = {a.lower(): a for a in seg_architectures()}
    return lower.get(arch.lower(), arch)


def _read_state(source: str) -> tuple[dict, str, str]:
    """(state dict, what it is, sha256 of the file) from a local weights file, an xwb checkpoint (last.pt,
    best.safetensors) or a registered version (``models:/NAME/VERSION`` or ``@alias``, checked first)."""
    from datasets.scanio import file_sha256

    if source.startswith("models:/"):
        import tempfile

        from mlflow import MlflowClient
        from safetensors.torch import load_file

        from training.versions import registry, signing

        ref = registry.resolve(source)
        with tempfile.TemporaryDirectory(prefix="xwb-init-") as tmp:
            local = signing.verified_copy(MlflowClient(), ref.name, ref.version, Path(tmp))
            f = next(iter(sorted(local.rglob("*.safetensors"))), None)
            if f is None:
                raise XwbError(f"model.encoder_weights: {source}: the version holds no weights file")
            return load_file(str(f)), f"{ref.name} v{ref.version}", file_sha256(f)
    path = Path(source).expanduser()
    if not path.is_file():
        raise XwbError(f"model.encoder_weights: {path}: file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:
        raise XwbError(f"model.encoder_weights: {path}: not a weights file ({_first(e)})") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):  # an xwb checkpoint (last.pt)
        state = state["model"]
    elif isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise XwbError(f"model.encoder_weights: {path}: holds no state dict of tensors")
    return state, path.name, file_sha256(path)


def adapt_conv(w: torch.Tensor, in_ch: int) -> torch.Tensor:
    """A pretrained first convolution for another number of input channels: fewer channels each get the
    average of the pretrained ones, scaled so the response to a uniform input stays the same (one channel:
    their sum); more channels repeat them, scaled as timm does."""
    src = w.shape[1]
    if in_ch <= src:
        return w.sum(dim=1, keepdim=True).repeat(1, in_ch, 1, 1) / in_ch
    reps = -(-in_ch // src)
    return w.repeat(1, reps, 1, 1)[:, :in_ch] * (src / in_ch)


def load_weights(net: torch.nn.Module, source: str) -> dict:
    """Load what fits of ``source`` into ``net``: the whole network when it is an xwb model of the same
    architecture (fine-tuning), the encoder when the names say encoder; a first convolution made for another
    channel count is adapted, not thrown away. Returns what was done, for the run's record."""
    state, label, sha = _read_state(source)
    own = net.state_dict()
    best: dict[str, torch.Tensor] = {}
    adapted = 0
    for prefix in ("", "encoder."):  # a full network's names, or a bare encoder's (torchvision/timm files)
        got, n_adapt = {}, 0
        for k, v in state.items():
            name = prefix + k
            t = own.get(name)
            if t is None:
                continue
            if t.shape == v.shape:
                got[name] = v
            elif v.ndim == 4 and t.ndim == 4 and v.shape[0] == t.shape[0] and v.shape[2:] == t.shape[2:]:
                got[name] = adapt_conv(v, t.shape[1])
                n_adapt += 1
        if len(got) > len(best):
            best, adapted = got, n_adapt
    if not best:
        raise XwbError(f"model.encoder_weights: {label}: no tensor matches this network's names and shapes "
                       f"({len(state)} tensors in the file, e.g. {next(iter(state), '-')})")
    net.load_state_dict(best, strict=False)
    return {"from": source, "label": label, "sha256": sha, "loaded": len(best), "tensors": len(own),
            "adapted": adapted}


def _hub_weights(spec: dict, name: str) -> torch.nn.Module:
    """Build with hub weights; only when downloads are allowed (or the files are cached)."""
    try:
        return tasks.get(spec["task"]).hub_net(spec, name)
    except Exception as e:  # network errors come in many types; all mean the same to the user
        raise XwbError(f"model.encoder_weights: {name!r} could not be loaded ({type(e).__name__}: "
                       f"{str(e).splitlines()[0][:160] if str(e) else ''}); with no network use a local file "
                       "(encoder_weights: path/to/weights.safetensors) or null") from None


def create(spec: dict, weights: str | None) -> torch.nn.Module:
    """Build the spec's network; ``weights`` as in ``model.encoder_weights``. What was loaded is recorded in
    ``spec["init"]`` (source, file sha256, tensors loaded and adapted), which travels with the model."""
    if weights is None or str(weights).lower() in ("none", "null", ""):
        return model_code.build_net(spec, _code(spec))
    path = Path(weights).expanduser()
    if str(weights).startswith("models:/") or path.suffix in (".safetensors", ".pth", ".pt", ".bin") \
            or path.exists():
        net = model_code.build_net(spec, _code(spec))
        spec["init"] = load_weights(net, str(weights))
        return net
    if os.environ.get("XWB_ALLOW_DOWNLOAD") != "1":
        raise XwbError(f"model.encoder_weights: {weights!r} needs a download and xwb does not use the network "
                       "by default; give a local weights file, use null, or set XWB_ALLOW_DOWNLOAD=1")
    return _hub_weights(spec, str(weights))
