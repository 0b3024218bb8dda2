"""One-line messages for pydantic validation errors (project.yaml, training recipes)."""
from __future__ import annotations

from pydantic import ValidationError


def where(err: dict) -> str:
    return ".".join(str(p) for p in err["loc"]) or "(top level)"


def message(source: str, e: ValidationError) -> str:
    """``source: key.path: what is wrong (got VALUE)``, plus how many more problems there are."""
    errs = e.errors()
    first = errs[0]
    if first["type"] == "extra_forbidden":
        text = "unknown key"
    else:
        text = first["msg"]
        if "input" in first and not isinstance(first["input"], (dict, list)):
            got = repr(first["input"])
            text += f" (got {got[:80] + '…' if len(got) > 80 else got})"
    more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"{source}: {where(first)}: {text}{more}"
