"""Registered model versions: names, aliases, and whether a model fits a project's taxonomy."""
from __future__ import annotations

import re
from dataclasses import dataclass

from datasets.errors import XwbError
from datasets.project import Project

_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[A-Za-z0-9_\-]+))$")


@dataclass
class VersionRef:
    name: str | None      # None for runs:/ or path URIs
    version: str | None
    uri: str

    @property
    def source(self) -> str:
        """The ``source`` of regions this model proposes: ``model:<name>/<version>``."""
        if self.name:
            return f"model:{self.name}/{self.version}"
        return f"model:{self.uri}"

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}" if self.name else self.uri


def resolve(uri: str) -> VersionRef:
    """Pin ``models:/NAME@alias`` to its version now, so every record names a fixed version."""
    m = _MODELS.match(uri)
    if not m:
        if uri.startswith("models:/"):
            raise XwbError(f"{uri}: expected models:/NAME/VERSION or models:/NAME@ALIAS")
        return VersionRef(None, None, uri)
    from mlflow import MlflowClient

    c = MlflowClient()
    name = m["name"]
    try:
        c.get_registered_model(name)
    except Exception:
        names = [r.name for r in c.search_registered_models()]
        raise XwbError(f"{uri}: no registered model named {name!r}"
                       + (f" (registered: {', '.join(sorted(names))})" if names else " (none registered yet)")) from None
    versions = sorted((str(v.version) for v in c.search_model_versions(f"name='{name}'")), key=int)
    if m["alias"]:
        try:
            mv = c.get_model_version_by_alias(name, m["alias"])
        except Exception:
            aliases = c.get_registered_model(name).aliases or {}
            raise XwbError(f"{uri}: {name} has no alias {m['alias']!r} "
                           f"(aliases: {', '.join(f'{a}->v{v}' for a, v in aliases.items()) or 'none'}; "
                           f"versions: {', '.join(versions)})") from None
        return VersionRef(name, str(mv.version), f"models:/{name}/{mv.version}")
    if m["version"] not in versions:
        raise XwbError(f"{uri}: {name} has no version {m['version']} (versions: {', '.join(versions) or 'none'})")
    return VersionRef(name, m["version"], uri)


def check_taxonomy(spec: dict, project: Project, uri: str) -> None:
    """A model's classes must mean the same in the project: same names, same ids."""
    from training import tasks

    tasks.get(spec["task"], f"{uri}: task").check_taxonomy(spec, project.taxonomy, uri)


def aliases_of(name: str) -> dict[str, list[str]]:
    """version -> its aliases."""
    from mlflow import MlflowClient

    return by_version(MlflowClient().get_registered_model(name).aliases)


def by_version(aliases: dict | None) -> dict[str, list[str]]:
    """A registered model's ``aliases`` (alias -> version) turned round: version -> its aliases, sorted."""
    out: dict[str, list[str]] = {}
    for alias, v in sorted((aliases or {}).items()):
        out.setdefault(str(v), []).append(alias)
    return out
