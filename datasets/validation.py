"""One-line messages for pydantic validation errors (project.yaml, training recipes)."""
from __future__ import annotations

from pydantic import ValidationError


def where(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(top level)"


def _known(model, loc: tuple) -> list[str]:
    """The keys a pydantic model accepts at ``loc`` (the parent of an unknown key)."""
    for part in loc:
        f = getattr(model, "model_fields", {}).get(part)
        if f is None:
            return []
        model = f.annotation
    return list(getattr(model, "model_fields", {}))


def message(source: str, e: ValidationError, model=None) -> str:
    """``source: key.path: what is wrong (got VALUE)``, plus how many more problems there are; an unknown key
    gets the nearest known one when ``model`` (the schema) is given."""
    errs = e.errors()
    first = errs[0]
    if first["type"] == "extra_forbidden":
        text = "unknown key"
        if model is not None:
            import difflib

            known = _known(model, tuple(first["loc"][:-1]))
            near = difflib.get_close_matches(str(first["loc"][-1]), known, n=1, cutoff=0.5)
            text += f"; did you mean {near[0]!r}?" if near else (f" (known: {', '.join(known)})" if known else "")
    else:
        text = first["msg"]
        if "input" in first and not isinstance(first["input"], (dict, list)):
            got = repr(first["input"])
            text += f" (got {got[:80] + '…' if len(got) > 80 else got})"
    more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"{source}: {where(first)}: {text}{more}"
