"""The shape of the code, checked from its source: no import circle, SQL only in the store backends, no file
past 500 lines. (tests/test_layers.py checks which layer may import which, by importing them.)"""
import ast
import re
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("datasets", "training", "workbench", "configs")
STORE_FOLDERS = (REPO / "datasets" / "stores", REPO / "tests" / "datasets" / "stores")
DRIVERS = {"sqlite3", "psycopg", "psycopg2", "psycopg_pool", "sqlalchemy", "apsw"}
SQL = re.compile(r"^\s*(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIEW)|"
                 r"ALTER\s+TABLE|DROP\s+TABLE|PRAGMA\s|BEGIN(\s|$)|COMMIT$|ROLLBACK$)")
MAX_LINES = 500


def _files(*roots: str) -> list[Path]:
    return sorted(f for r in roots for f in (REPO / r).rglob("*.py"))


def _module(f: Path) -> str:
    parts = list(f.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, here: str, is_pkg: bool, known: set[str]) -> set[str]:
    """Every module the file imports, deferred ones inside functions included (a deferred import that closes a
    circle is still a circle: it only moves the failure to run time); ``if TYPE_CHECKING`` blocks never run."""
    out: set[str] = set()

    class Visit(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" in ast.unparse(node.test):
                for n in node.orelse:
                    self.visit(n)
            else:
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            out.update(a.name for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                pkg = here.split(".") if is_pkg else here.split(".")[:-1]
                pkg = pkg[:len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)

    Visit().visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    files = _files(*PACKAGES)
    known = {_module(f) for f in files}
    graph = {}
    for f in files:
        m = _module(f)
        deps = _imports(ast.parse(f.read_text()), m, f.name == "__init__.py", known)
        graph[m] = {d for d in deps if d in known and d != m}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_packages():
    graph = import_graph()
    assert len(graph) > 100 and graph["datasets.project"] >= {"datasets.stores", "datasets.taxonomy"}
    assert cycles(graph) == []


def _sql_findings(f: Path) -> list[str]:
    tree = ast.parse(f.read_text())
    rel = f.relative_to(REPO)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{rel}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"{rel}:{node.lineno}: SQL {node.value[:40]!r}")
        elif isinstance(node, ast.Attribute) and node.attr == "conn" and "store" in ast.unparse(node.value):
            found.append(f"{rel}:{node.lineno}: reaches into the store's connection")
    return found


def test_sql_lives_only_in_the_store_backends():
    files = [f for f in _files(*PACKAGES, "tests", "benchmarks")
             if not any(f.is_relative_to(d) for d in STORE_FOLDERS)]
    assert len(files) > 150
    assert [x for f in files for x in _sql_findings(f)] == []
    # and the check sees SQL where there is some
    assert _sql_findings(REPO / "datasets" / "stores" / "sqlite.py")


def test_no_file_over_500_lines():
    long = [f"{f.relative_to(REPO)}: {n} lines" for f in _files(*PACKAGES, "tests", "benchmarks")
            if (n := len(f.read_text().splitlines())) > MAX_LINES]
    assert long == []


def _part_names() -> dict[str, str]:
    """Each registered reader's and format's names, with the module that owns them."""
    from datasets import formats, readers

    owners = {}
    for r in readers.readers().values():
        for n in {r.NAME, *r.SUFFIXES.values()}:
            owners[n] = r.__name__
    for m in formats.formats().values():
        owners[m.NAME] = m.__name__
    return owners


def test_no_if_chain_over_reader_or_format_names():
    """Dispatch goes through the registries: no module compares a reader's or format's name but its own."""
    owners = _part_names()
    assert {"tiff", "dicom", "npy", "png", "coco", "labelme", "cvat", "yolo", "masks"} <= set(owners)
    found = []
    for f in _files(*PACKAGES):
        mod = _module(f)
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            consts = [node.left, *node.comparators]
            consts += [e for c in node.comparators if isinstance(c, ast.Tuple | ast.Set | ast.List) for e in c.elts]
            for c in consts:
                if isinstance(c, ast.Constant) and c.value in owners and owners[c.value] != mod:
                    found.append(f"{f.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}")
    assert found == []


def test_training_is_in_wings():
    """Only the entry points sit at the top of training/; everything else lives in a wing a reader can tell
    apart by name."""
    top = sorted(f.name for f in (REPO / "training").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"]
    wings = sorted(d.name for d in (REPO / "training").iterdir() if (d / "__init__.py").is_file())
    assert wings == ["evaluation", "inference", "loop", "nets", "recipes", "tasks", "versions"]


def test_the_task_is_handed_on_not_looked_up_again():
    """The loop, the data, measuring, comparing and inference take the task object resolved from the recipe
    or the loaded version; only code where a name comes in from a file (recipe, spec, MLflow tag) looks one up."""
    handed = [*(REPO / "training" / "loop").glob("*.py"),
              *(REPO / "training" / p for p in ("evaluation/measure.py", "evaluation/compare.py",
                                                 "inference/outputs.py", "inference/queue.py"))]
    assert len(handed) >= 8
    found = [f"{f.relative_to(REPO)}:{i}" for f in handed
             for i, line in enumerate(f.read_text().splitlines(), 1) if "tasks.get(" in line]
    assert found == []
