"""The recipe reference, generated from the schema (``training.recipes.config``): every key, type, default, range
and meaning. ``xwb recipe`` prints it; ``docs/RECIPES.md`` is it (a test fails when the two drift apart)."""
from __future__ import annotations

import json
import types
import typing

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from training import tasks
from training.nets import losses
from training.recipes.config import TrainConfig

HEADER = """# Recipe reference

Generated from the schema in `training/recipes/config.py` by `xwb recipe --markdown` (do not edit by hand; a test
checks that this file matches the schema). A recipe is YAML with these sections; every key is optional and
an unknown key is refused with the nearest known one. `--set section.key=value` overrides a key from the
command line (values are YAML: `--set data.channels=[high,low]`).
"""


def _type(ann) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] and X | None alike
        parts = [_type(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"list of {_type(args[0])}" if args else "list"
    return getattr(ann, "__name__", str(ann))


def _range(f: FieldInfo) -> str:
    bits = []
    for m in f.metadata:
        for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, key, None)
            if v is not None:
                bits.append(f"{sym} {v}")
    return ", ".join(bits)


def _default(f: FieldInfo) -> str:
    v = f.get_default(call_default_factory=True)
    return "" if isinstance(v, BaseModel) else json.dumps(v)


def markdown() -> str:
    out = [HEADER]
    top = TrainConfig.model_fields
    out += ["## Top level", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for name, f in top.items():
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            continue
        out.append(f"| `{name}` | {_type(f.annotation)} | `{_default(f)}` | {f.description} |")
    for name, f in top.items():
        sec = f.annotation
        if not (isinstance(sec, type) and issubclass(sec, BaseModel)):
            continue
        out += ["", f"## `{name}`: {f.description}", "", "| key | type | default | range | meaning |",
                "|---|---|---|---|---|"]
        for key, g in sec.model_fields.items():
            out.append(f"| `{name}.{key}` | {_type(g.annotation)} | `{_default(g)}` | {_range(g)} | "
                       f"{g.description} |")
    out += ["", *_parts()]
    return "\n".join(out) + "\n"


def _parts() -> list[str]:
    """The registered tasks and losses (``training/tasks``, ``training/nets/losses.py``), with what each serves."""
    out = ["## Parts by name", "", "Tasks (`task`; one module each under `training/tasks/`):", "",
           "| task | predicts | monitored | losses |", "|---|---|---|---|"]
    for t in tasks.names():
        k = tasks.get(t)
        out.append(f"| `{t}` | {k.help} ({k.labels}) | `val_{k.monitor}` | {', '.join(losses.names(t))} |")
    out += ["", "Losses (`loss.name`; registered in `training/nets/losses.py`, or your own `path/to/file.py:fn`):", "",
            "| loss | tasks | what |", "|---|---|---|"]
    for n in losses.names():
        e = losses.entry(n)
        out.append(f"| `{n}` | {', '.join(e.tasks)} | {e.help} |")
    return out


def text() -> str:
    """The reference as plain lines for a terminal."""
    lines = []
    for name, f in TrainConfig.model_fields.items():
        sec = f.annotation
        if isinstance(sec, type) and issubclass(sec, BaseModel):
            lines.append(f"\n{name}: {f.description}")
            for key, g in sec.model_fields.items():
                rng = _range(g)
                lines.append(f"  {name}.{key} = {_default(g)}  ({_type(g.annotation)}{'; ' + rng if rng else ''})")
                lines.append(f"      {g.description}")
        else:
            lines.append(f"{name} = {_default(f)}  ({_type(f.annotation)})\n      {f.description}")
    lines.append("\ntasks (task):")
    lines += [f"  {t}: {tasks.get(t).help}; monitors val_{tasks.get(t).monitor}; losses "
              f"{', '.join(losses.names(t))}" for t in tasks.names()]
    lines.append("losses (loss.name), or your own path/to/file.py:fn:")
    lines += [f"  {n} ({', '.join(losses.entry(n).tasks)}): {losses.entry(n).help}" for n in losses.names()]
    return "\n".join(lines).lstrip("\n").replace(" \\| ", " | ")
