"""project.yaml: its keys checked and named in every error, and the store backend it picks."""
import pytest

from datasets.errors import XwbError
from datasets.project import Project


def test_project_yaml_errors_name_the_key(tmp_path, project):
    cfg = project.folder / "project.yaml"
    text = cfg.read_text()
    cfg.write_text(text.replace("image_root:", "imagee_root:"))
    with pytest.raises(XwbError, match="imagee_root: unknown key"):
        Project.open(project.folder)
    cfg.write_text(text.replace("color: '#e6194b'", "color: red"))
    with pytest.raises(XwbError, match=r"classes\[0\]\.color"):
        Project.open(project.folder)


def test_older_project_yaml_without_a_store_key_opens_on_sqlite(project):
    text = (project.folder / "project.yaml").read_text()
    assert "store:" not in text  # the default is not written: files from before the key stay as they were
    project.close()
    with Project.open(project.folder) as p:
        assert p.config.store == {"backend": "sqlite"}


@pytest.mark.parametrize("value,needle", [
    ("store: couchdb", "store: unknown backend 'couchdb' (this xwb has: postgres, sqlite)"),
    ("store: {dsn: 'postgresql://x'}", "store: needs a backend name"),
    ("store: 5", "store"),
])
def test_a_bad_store_key_is_named(project, value, needle):
    cfg = project.folder / "project.yaml"
    cfg.write_text(cfg.read_text() + value + "\n")
    project.close()
    with pytest.raises(XwbError, match="project.yaml") as e:
        Project.open(project.folder)
    assert needle in str(e.value)
