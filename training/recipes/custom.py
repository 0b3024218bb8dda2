"""Your own network or loss, named in a recipe, without editing xwb.

``model.arch: path/to/nets.py:MyNet`` (or ``mypkg.nets:MyNet`` for an importable single-file module) and
``loss.name: path/to/losses.py:focal_tversky``. The network class is called as ``MyNet(in_channels=C,
classes=K)`` and returns logits: (B, K, H, W) for segmentation (K = classes + background) or (B, K) for
tags. The loss is called as ``fn(logits, target)`` with target (B, H, W) class indices (255 = don't care) for
segmentation or (B, K) 0/1 tags, and returns a scalar tensor.

The network's source file travels inside the logged model version (an artifact, signed with the rest), so
the version loads and predicts on another machine, in a fresh process, without the file. The loss file is
logged with the run and its SHA-256 recorded.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from datasets.errors import XwbError


def is_custom(name: str | None) -> bool:
    return bool(name) and ":" in str(name)


@dataclass(frozen=True)
class CustomRef:
    ref: str       # as the recipe says it
    source: Path   # the file
    attr: str
    sha256: str


@functools.lru_cache(maxsize=32)
def resolve(ref: str, key: str) -> CustomRef:
    """The file and attribute a ``module:attr`` or ``file.py:attr`` reference names; refused in one line.
    Resolved once per process: the checks, the spec, the run's tags and the loss all ask for it, and the
    user's module is imported (run) only the first time."""
    mod, _, attr = ref.rpartition(":")
    if not mod or not attr.isidentifier():
        raise XwbError(f"{key}: {ref!r}: name your own part as path/to/file.py:Name or package.module:Name")
    if mod.endswith(".py") or "/" in mod or "\\" in mod:
        src = Path(mod).expanduser()
        if not src.is_file():
            raise XwbError(f"{key}: {ref!r}: no file {src}")
    else:
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError) as e:
            raise XwbError(f"{key}: {ref!r}: module {mod!r} cannot be found ({e})") from None
        if spec is None:
            raise XwbError(f"{key}: {ref!r}: module {mod!r} cannot be found (not importable here)")
        if not spec.origin or not spec.origin.endswith(".py"):
            raise XwbError(f"{key}: {ref!r}: module {mod!r} is not a single Python file xwb can ship with the "
                           "model; name the file (path/to/file.py:Name)")
        src = Path(spec.origin)
    data = src.read_bytes()
    out = CustomRef(ref, src.resolve(), attr, hashlib.sha256(data).hexdigest())
    load(out.source, attr, key)  # fails now, with the reason, rather than after the data is loaded
    return out


def load(source: str | Path, attr: str, key: str = "custom part"):
    """The attribute of a Python file, imported under a name of its own (its content's hash)."""
    source = Path(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    name = f"xwb_custom_{digest}"
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise XwbError(f"{key}: {source}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        why = str(e).splitlines()[0][:160] if str(e) else ""
        raise XwbError(f"{key}: {source}: importing it failed ({type(e).__name__}: {why})") from None
    if not hasattr(module, attr):
        names = [n for n in dir(module) if not n.startswith("_")]
        raise XwbError(f"{key}: {source} has no {attr!r} (it has: {', '.join(names[:12])})")
    return getattr(module, attr)
