"""``xwb gui [PROJECT]``: the workbench (Qt is imported only when it runs)."""
from __future__ import annotations


def cmd_gui(a) -> int:
    try:
        import PySide6  # noqa: F401
    except ModuleNotFoundError:
        from datasets.errors import XwbError

        raise XwbError("the workbench needs Qt, which this install left out: pip install 'xwb[gui]'") from None
    from workbench.app import run

    return run(a.project, a.annotator)


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the workbench (a project chooser when no project is given)")
    p.add_argument("project", nargs="?", help="project folder")
    p.add_argument("--annotator", help="name recorded with every edit (default: the OS user or the saved setting)")
    p.set_defaults(func=cmd_gui)
