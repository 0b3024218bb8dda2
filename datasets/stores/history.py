"""The history of a project's annotations: every change, append-only, with who, when, from which program, and
the state before and after (the audit trail a lab's auditor asks for).

The backends write one ``HistoryEntry`` per change inside the same transaction as the change, so a change
and its record land together or not at all; nothing here is ever updated or deleted. The history stays out
of the dataset digest and the training labels. ``region_state`` keeps a region whole (geometry included),
so an earlier state can be restored from it; ``summary`` says in words what changed.
"""
from __future__ import annotations

import base64
import getpass
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from datasets.regions import Region, decode_mask, encode_mask

_program = ""


def set_program(name: str) -> None:
    """What this process is, recorded with each change it makes (``xwb add``, ``workbench``); the CLI sets it."""
    global _program
    _program = name


def program() -> str:
    return _program or f"python {os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ''}".strip()


def default_who() -> str:
    try:
        return os.environ.get("XWB_USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


@dataclass
class HistoryEntry:
    id: int
    at: float
    who: str
    program: str
    action: str          # region.create/update/delete/restore, image.create/update/delete
    image_id: int
    region_id: int | None
    before: dict | None
    after: dict | None

    def summary(self) -> str:
        return summary(self.action, self.before, self.after)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "who": self.who, "program": self.program, "action": self.action,
                "image_id": self.image_id, "region_id": self.region_id, "before": self.before, "after": self.after,
                "summary": self.summary()}


def region_state(r: Region) -> dict[str, Any]:
    """A region whole, as JSON: what it was is enough to make it again."""
    d: dict[str, Any] = {"class_id": int(r.class_id), "state": r.state, "source": r.source,
                         "score": None if r.score is None else float(r.score), "author": r.author, "kind": r.kind,
                         "ignore": bool(r.ignore), "group": None if r.group is None else int(r.group),
                         "decided_by": r.decided_by}
    if r.polygon is not None:
        d["polygon"] = np.round(r.polygon, 4).tolist()
    elif r.box is not None:
        d["box"] = [float(v) for v in r.box]
    else:
        m = r.mask if r.mask is not None else r.voxels
        assert m is not None
        d["mask"] = {"at": [int(r.mask_x), int(r.mask_y), int(r.mask_z)], "shape": [int(n) for n in m.shape],
                     "bits": base64.b64encode(encode_mask(m)).decode()}
    return d


def region_from_state(d: dict) -> Region:
    """The region a ``region_state`` describes (without an id: restoring it makes a new edit)."""
    meta = dict(class_id=d["class_id"], state=d["state"], source=d["source"], score=d["score"], author=d["author"],
                ignore=d.get("ignore", False), group=d.get("group"), decided_by=d.get("decided_by", ""))
    if "polygon" in d:
        return Region(polygon=np.asarray(d["polygon"], np.float64), **meta)
    if "box" in d:
        return Region(box=np.asarray(d["box"], np.float64), **meta)
    m, (x, y, z) = d["mask"], d["mask"]["at"]
    bits = base64.b64decode(m["bits"])
    if len(m["shape"]) == 3:
        return Region(voxels=decode_mask(bits, m["shape"][1], m["shape"][2], m["shape"][0]), mask_x=x, mask_y=y,
                      mask_z=z, **meta)
    return Region(mask=decode_mask(bits, *m["shape"]), mask_x=x, mask_y=y, **meta)


def _plain(v):
    if isinstance(v, np.generic):  # a numpy number or bool that reached a record
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON")


def dumps(d: dict | None) -> str | None:
    return None if d is None else json.dumps(d, sort_keys=True, default=_plain)


def loads(s: str | None) -> dict | None:
    return None if s is None else json.loads(s)


def summary(action: str, before: dict | None, after: dict | None) -> str:
    """In words: 'class 1 -> 3, geometry', 'status new -> done', 'created (polygon, class 2)'."""
    if before is None and after is not None:
        what = after.get("kind") or after.get("path", "")
        return f"created ({what}{', class ' + str(after['class_id']) if 'class_id' in after else ''})"
    if after is None and before is not None:
        return f"deleted ({before.get('kind') or before.get('path', '')})"
    if before is None or after is None:
        return ""
    geometry = ("polygon", "box", "mask")
    parts = [f"{k} {before.get(k)!r} -> {after.get(k)!r}".replace("'", "") for k in sorted(set(before) | set(after))
             if k not in geometry and before.get(k) != after.get(k)]
    if any(before.get(k) != after.get(k) for k in geometry):
        parts.append("geometry")
    return ", ".join(parts) or "no change"
