"""``xwb``: one console script; each layer registers its own subcommands."""
from __future__ import annotations

import argparse
import os
import sys

from datasets.errors import XwbError


def version() -> str:
    """The installed distribution's version (``pyproject.toml``), as pip reports it."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("xwb")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from datasets import cli as dcli

    parser = argparse.ArgumentParser(prog="xwb", description="X-ray Workbench: label scans, train and compare models.")
    parser.add_argument("--version", action="version", version=f"xwb {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    dcli.register(sub)
    for mod in ("datasets.synth.cli", "datasets.material_check", "training.cli", "workbench.gui_cli"):
        try:
            m = __import__(mod, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name and mod.startswith(e.name):
                continue  # that layer's commands are not built yet
            raise
        m.register(sub)
    return parser


def _answer_ctrl_c() -> None:
    """Ctrl-C (SIGINT) stops a command, even one started in the background (``cmd &`` in a script, nohup),
    which inherits SIGINT ignored: Python then leaves it ignored, and the Models panel's Stop, which sends
    SIGINT to ``xwb train``, would be lost while the run trained to its end."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    _answer_ctrl_c()
    parser = build_parser()
    args = parser.parse_args(argv)
    from datasets.stores import history

    history.set_program(f"xwb {args.command}")  # recorded with every change this command makes
    try:
        return int(args.func(args) or 0)
    except XwbError as e:
        print(f"xwb {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"xwb {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as e:  # disk full, read-only folder, no permission: the path and the cause, no traceback
        print(f"xwb {args.command}: error: {e.filename or ''}{': ' if e.filename else ''}"
              f"{e.strerror or e}", file=sys.stderr)
        return 1


def _quiet_broken_pipe() -> int:
    """``xwb ... | head``: the reader went away; stop quietly, as other command-line tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not complain
    except OSError:
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the broken pipe


def run() -> None:
    """The console script's entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _quiet_broken_pipe()
    sys.exit(code)


if __name__ == "__main__":
    run()
