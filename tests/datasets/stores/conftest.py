"""The store contract suite runs over every backend ``datasets.stores.names()`` lists.

``project`` and ``scans_project`` here shadow the suite-wide ones: the same fixtures, one per backend. A backend
that needs a server (PostgreSQL) adds a factory to ``SETTINGS`` that starts it on 127.0.0.1 with a temporary data
folder and returns the ``store:`` settings of a fresh project on it.
"""
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from datasets import stores
from datasets.project import Project
from tests import pg_server
from tests.conftest import write_scans

SETTINGS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "sqlite": lambda tmp: {},
    "postgres": lambda tmp: {"dsn": pg_server.dsn(), "schema": pg_server.fresh_schema()},
}


@pytest.fixture(params=stores.names())
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_settings(backend, tmp_path) -> dict[str, Any]:
    if backend not in SETTINGS:
        pytest.fail(f"store backend {backend!r} has no entry in tests/datasets/stores/conftest.py SETTINGS")
    return {"backend": backend, **SETTINGS[backend](tmp_path)}


@pytest.fixture
def project(tmp_path, store_settings):
    p = Project.create(tmp_path / "proj", store=store_settings)
    yield p
    p.close()


@pytest.fixture
def scans_project(project):
    project.add_scans(write_scans(project.folder / "images", 6))
    return project

