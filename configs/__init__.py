"""The recipes and taxonomies xwb ships: package data, found through ``importlib.resources`` so that an
installed wheel finds them as a checkout does (nothing is looked up relative to the repository)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TAXONOMY = "taxonomy.yaml"


def folder() -> Path:
    """The folder holding the shipped YAML files (a real folder: wheels are installed unzipped)."""
    return Path(str(files(__name__)))


def path(name: str) -> Path:
    """A shipped file by name, e.g. ``path("seg_tiny.yaml")``."""
    return folder() / name


def recipes(project_folder: Path | None = None) -> list[Path]:
    """The shipped training recipes, sorted by name (the taxonomy is not one); with ``project_folder``, the
    project's own ``*.yaml`` recipes (beside project.yaml and in ``recipes/``) come first."""
    own: list[Path] = []
    if project_folder is not None:
        own = [p for p in sorted(project_folder.glob("*.yaml")) if p.name not in ("project.yaml", TAXONOMY)]
        own += sorted((project_folder / "recipes").glob("*.yaml"))
    return own + sorted(p for p in folder().glob("*.yaml") if p.name != TAXONOMY)


def recipe(name: str) -> Path | None:
    """A shipped recipe by name, with or without ``.yaml`` and ``configs/`` (``seg_tiny``,
    ``configs/seg_tiny.yaml``: what the README writes works outside a checkout too), or None."""
    p = Path(name)
    if str(p.parent) not in (".", "configs"):
        return None
    f = folder() / (p.name if p.suffix in (".yaml", ".yml") else f"{p.name}.yaml")
    return f if f.is_file() and f.name != TAXONOMY else None
