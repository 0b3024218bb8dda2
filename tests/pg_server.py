"""A real PostgreSQL server for the tests, started once per test process on 127.0.0.1 in a temporary data
folder, and stopped when the process ends. Debian's PostgreSQL server binaries (``initdb``, ``pg_ctl``;
``.ci/run`` installs them when missing); as root (CI) the server runs as ``nobody``, since initdb refuses root.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

_DSN: str | None = None


def _bin(name: str) -> str:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).is_file():
            return str(d / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql; .ci/run does it)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dsn() -> str:
    """The address of the test server (started on the first call)."""
    global _DSN
    if _DSN is not None:
        return _DSN
    root = Path(tempfile.mkdtemp(prefix="xwb-pg-", dir="/tmp"))
    data, port = root / "data", _free_port()
    as_root = os.geteuid() == 0
    if as_root:
        os.chmod(root, 0o755)
        shutil.chown(root, "nobody")

    def run(*cmd: str, check: bool = True) -> None:
        full = ["su", "nobody", "-s", "/bin/sh", "-c", " ".join(cmd)] if as_root else list(cmd)
        r = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if r.returncode and check:
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout[-800:]} {r.stderr[-800:]}")

    run(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "xwb", "--no-sync", "-E", "UTF8")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off"
    run(_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o", f"'{opts}'", "start")

    def stop() -> None:
        run(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    _DSN = f"postgresql://xwb@127.0.0.1:{port}/postgres"
    return _DSN


def fresh_schema() -> str:
    return "p_" + uuid.uuid4().hex[:12]
