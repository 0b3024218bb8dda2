"""Region classes and image-level tags of a project.

The taxonomy lives in ``project.yaml`` (and default taxonomies in ``configs/``).
Class ids are stable across renames: the store refers to classes by id, so a
rename never touches annotation rows. Ids are 1..255 so that a class id is
also its index in a uint8 label map (0 is background).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets import safeyaml
from datasets.errors import XwbError

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Class and tag names end up in file names (per-class mask folders, exports): letters and digits of any
# script, '_', '-', '.', and inner spaces; never a path separator, never '.' or '..', at most 64 characters.
_NAME = re.compile(r"^\w(?:[\w\-. ]{0,62}[\w\-.])?$")
NAME_RULE = "1-64 letters, digits, '_', '-', '.' or inner spaces, starting with a letter, digit or '_'"


def check_name(name, key: str) -> str:
    """A class or tag name that is safe as a file name; one-line refusal naming the key otherwise."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise XwbError(f"{key}: not a usable name ({NAME_RULE})")
    return name

# A palette for classes added on import (--add-classes); distinct, readable on grey.
AUTO_COLORS = [
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
    "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000",
]


@dataclass(frozen=True)
class RegionClass:
    id: int
    name: str
    color: str
    hotkey: str = ""
    description: str = ""
    declared_as: tuple[str, ...] = ()  # manifest words that declare this class (image-manifest comparison)
    implies: tuple[str, ...] = ()  # image tags a scan holding this class carries (tags from a segmentation model)

    @property
    def rgb(self) -> tuple[int, int, int]:
        c = self.color.lstrip("#")
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@dataclass
class Taxonomy:
    classes: list[RegionClass] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    # -- lookups -------------------------------------------------------------
    def by_id(self, class_id: int) -> RegionClass:
        for c in self.classes:
            if c.id == class_id:
                return c
        raise XwbError(f"class id {class_id} is not in the taxonomy")

    def by_name(self, name: str) -> RegionClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise XwbError(f"class {name!r} is not in the taxonomy (known: {', '.join(self.names)})")

    def has_name(self, name: str) -> bool:
        return any(c.name == name for c in self.classes)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.classes]

    def add_class(self, name: str) -> RegionClass:
        """Add a class with the next free id, a palette colour and no hotkey."""
        used = set(self.ids)
        free = [i for i in range(1, 256) if i not in used]
        if not free:
            raise XwbError(f"class {name!r}: the taxonomy already has 255 classes (the most a label map holds)")
        new_id = free[0]
        color = _free_color({c.color.lower() for c in self.classes}, new_id)
        rc = RegionClass(new_id, name, color)
        _check_class(rc, f"class {name!r}")
        self.classes.append(rc)
        return rc

    # -- (de)serialisation ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for c in self.classes:
            d: dict[str, Any] = {"id": c.id, "name": c.name, "color": c.color}
            if c.hotkey:
                d["hotkey"] = c.hotkey
            if c.description:
                d["description"] = c.description
            if c.declared_as:
                d["declared_as"] = list(c.declared_as)
            if c.implies:
                d["implies"] = list(c.implies)
            out.append(d)
        return {"classes": out, "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "taxonomy") -> Taxonomy:
        if not isinstance(data, dict):
            raise XwbError(f"{where}: expected a mapping with 'classes' and 'tags'")
        unknown = set(data) - {"classes", "tags"}
        if unknown:
            raise XwbError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        raw_classes = data.get("classes") or []
        if not isinstance(raw_classes, list):
            raise XwbError(f"{where}.classes: expected a list")
        classes: list[RegionClass] = []
        for i, rc in enumerate(raw_classes):
            key = f"{where}.classes[{i}]"
            if not isinstance(rc, dict):
                raise XwbError(f"{key}: expected a mapping")
            bad = set(rc) - {"id", "name", "color", "hotkey", "description", "declared_as", "implies"}
            if bad:
                raise XwbError(f"{key}: unknown key(s) {', '.join(sorted(bad))}")
            for req in ("id", "name", "color"):
                if req not in rc:
                    raise XwbError(f"{key}.{req}: missing")
            c = RegionClass(
                id=rc["id"], name=rc["name"], color=rc["color"],
                hotkey=str(rc.get("hotkey", "")), description=str(rc.get("description", "")),
                declared_as=_words(rc.get("declared_as", []), f"{key}.declared_as"),
                implies=_words(rc.get("implies", []), f"{key}.implies"),
            )
            _check_class(c, key)
            classes.append(c)
        tags = data.get("tags") or []
        if not isinstance(tags, list):
            raise XwbError(f"{where}.tags: expected a list of names")
        for i, t in enumerate(tags):
            check_name(t, f"{where}.tags[{i}]")
        tax = cls(classes, list(tags))
        tax.validate(where)
        return tax

    def add_tag(self, tag: str) -> None:
        self.tags.append(check_name(tag, f"tag {tag!r}"))

    def duplicate_colors(self) -> list[str]:
        """Classes that share a colour (they cannot be told apart on screen): 'a and b share #rrggbb'."""
        by: dict[str, list[str]] = {}
        for c in self.classes:
            by.setdefault(c.color.lower(), []).append(c.name)
        return [f"{' and '.join(n)} share {col}" for col, n in by.items() if len(n) > 1]

    def validate(self, where: str = "taxonomy") -> None:
        seen_ids: set[int] = set()
        seen_names: set[str] = set()
        seen_keys: set[str] = set()
        for c in self.classes:
            if c.id in seen_ids:
                raise XwbError(f"{where}: duplicate class id {c.id}")
            if c.name in seen_names:
                raise XwbError(f"{where}: duplicate class name {c.name!r}")
            if c.hotkey and c.hotkey in seen_keys:
                raise XwbError(f"{where}: hotkey {c.hotkey!r} used twice")
            seen_ids.add(c.id)
            seen_names.add(c.name)
            if c.hotkey:
                seen_keys.add(c.hotkey)
        if len(set(self.tags)) != len(self.tags):
            raise XwbError(f"{where}.tags: duplicate tag")
        for i, c in enumerate(self.classes):
            unknown = [t for t in c.implies if t not in self.tags]
            if unknown:
                raise XwbError(f"{where}.classes[{i}].implies: {', '.join(unknown)} not in {where}.tags")

    def implied_tags(self, class_scores: dict[str, float]) -> dict[str, float]:
        """Tag scores from class scores (a segmentation model's per-class maximum probability): see
        ``implied_tags``; a tag no scored class implies gets no score."""
        return implied_tags(class_scores, {c.name: c.implies for c in self.classes})

    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        path = Path(path)
        if not path.is_file():
            raise XwbError(f"{path}: taxonomy file not found")
        data = safeyaml.load_file(path)
        if isinstance(data, dict) and "taxonomy" in data:  # a project.yaml works too
            data = data["taxonomy"]
        return cls.from_dict(data, where=str(path))


def implied_tags(class_scores: dict[str, float], implies: dict[str, Any]) -> dict[str, float]:
    """Each tag scores the highest of the classes that imply it (``implies``: class -> its tags)."""
    out: dict[str, float] = {}
    for c, s in class_scores.items():
        for t in implies.get(c, ()):
            out[t] = max(out.get(t, 0.0), float(s))
    return out


def _check_class(c: RegionClass, key: str) -> None:
    if not isinstance(c.id, int) or isinstance(c.id, bool) or not 1 <= c.id <= 255:
        raise XwbError(f"{key}.id: must be an integer 1..255 (0 is background), got {c.id!r}")
    check_name(c.name, f"{key}.name")
    if not isinstance(c.color, str) or not _COLOR.match(c.color):
        raise XwbError(f"{key}.color: must be '#rrggbb', got {c.color!r}")
    if c.hotkey and len(c.hotkey) != 1:
        raise XwbError(f"{key}.hotkey: must be a single key, got {c.hotkey!r}")


def _free_color(used: set[str], seed: int) -> str:
    """A palette colour no class uses yet; past the palette, evenly spread hues (golden ratio)."""
    for c in AUTO_COLORS[(seed - 1) % len(AUTO_COLORS):] + AUTO_COLORS:
        if c.lower() not in used:
            return c
    import colorsys

    for k in range(1, 512):
        r, g, b = colorsys.hsv_to_rgb((seed * 0.618033988749895 + k * 0.1) % 1.0, 0.65 + 0.3 * (k % 2), 0.95)
        c = f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
        if c not in used:
            return c
    return AUTO_COLORS[0]


def _words(v: Any, key: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(w, str) and w for w in v):
        raise XwbError(f"{key}: expected a list of manifest words")
    return tuple(v)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def default_taxonomy_path() -> Path:
    """The taxonomy that ``xwb init`` uses when none is given (the shipped ``configs/taxonomy.yaml``)."""
    import configs

    return configs.path(configs.TAXONOMY)
