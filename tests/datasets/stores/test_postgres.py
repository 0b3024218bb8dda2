"""What only the postgres backend has: projects as schemas on one server, its settings, a server that does not
answer, and a writer that holds a lock too long (the contract suite covers the rest)."""
import socket
import time

import pytest

from datasets.errors import ProjectBusyError, StoreError, XwbError
from datasets.project import Project
from tests import pg_server
from tests.conftest import write_scans


def _settings(**kw):
    return {"backend": "postgres", "dsn": pg_server.dsn(), "schema": pg_server.fresh_schema(), **kw}


def test_two_projects_on_one_server_are_two_schemas(tmp_path):
    a, b = _settings(), _settings()
    with Project.create(tmp_path / "a", store=a) as pa, Project.create(tmp_path / "b", store=b) as pb:
        pa.add_scans(write_scans(pa.folder / "images", 3))
        pb.add_scans(write_scans(pb.folder / "images", 2))
        assert (len(pa.images()), len(pb.images())) == (3, 2)
    with Project.open(tmp_path / "a") as again:  # project.yaml says where its store is
        assert len(again.images()) == 3 and again.config.store["schema"] == a["schema"]
    with pytest.raises(XwbError, match="already holds a project; choose another schema"):
        Project.create(tmp_path / "c", store=a)


@pytest.mark.parametrize("bad, said", [
    ({"schema": "Bad-Name"}, "schema 'Bad-Name': lower-case letters"),
    ({"dsn": "labserver:5432"}, "dsn: a postgresql://user@host:port/database address"),
    ({"password": "x"}, "takes dsn and schema, not password"),
    ({"dsn": "postgresql://xwb:secret@127.0.0.1/postgres"}, "dsn holds a password; .* ~/.pgpass or PGPASSWORD"),
])
def test_settings_are_checked_in_one_line(tmp_path, bad, said):
    with pytest.raises(XwbError, match=said) as e:
        Project.create(tmp_path / "p", store={**_settings(), **bad})
    assert "project.yaml: store" in str(e.value) and "\n" not in str(e.value)


def test_a_server_that_does_not_answer_is_a_store_error_within_seconds(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    t = time.monotonic()
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}/postgres schema .*: the database server does not answer"):
        Project.create(tmp_path / "p", store=_settings(dsn=f"postgresql://xwb@127.0.0.1:{port}/postgres"))
    assert time.monotonic() - t < 10


def test_a_writer_holding_a_lock_too_long_is_project_busy(tmp_path):
    with Project.create(tmp_path / "p", store=_settings()) as p, Project.open(tmp_path / "p") as other:
        p.add_scans(write_scans(p.folder / "images", 2))
        iid = p.images()[0].id
        other.store.set_busy_timeout(0.3)
        with p.store.transaction():
            p.store.update_image(iid, status="in_progress")  # holds the row until the transaction ends
            with pytest.raises(ProjectBusyError, match="project is busy"):
                other.store.update_image(iid, status="done")
            other.store.update_image(p.images()[1].id, status="done")  # another row: no wait at all
        other.store.update_image(iid, status="done")
        assert p.store.image(iid).status == "done"


def test_the_history_cannot_be_rewritten_even_with_sql(tmp_path):
    import psycopg

    s = _settings()
    with Project.create(tmp_path / "p", store=s) as p:
        p.add_scans(write_scans(p.folder / "images", 1))
        assert p.store.history()[-1].action == "image.create"
    with psycopg.connect(s["dsn"], autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{s["schema"]}"')
        for sql in ("DELETE FROM history", "UPDATE history SET who = 'mallory'"):
            with pytest.raises(psycopg.Error, match="history is append-only"):
                conn.execute(sql)
