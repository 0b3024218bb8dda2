"""MLflow plumbing: where the store is, experiments per project and task, logged model versions.

The embedded default is a SQLite store inside the project folder
(``<project>/mlflow/mlflow.db``, artifacts in ``<project>/mlflow/artifacts``),
so a project folder carries its own history. The same code runs against an
``mlflow server``; a server that does not answer is reported within seconds.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

from datasets.errors import XwbError
from training import tasks

MODEL_CODE = Path(__file__).parents[1] / "nets" / "model_code.py"  # logged as each version's code
HTTP_TIMEOUT_S = 5


def default_uri(project_folder: Path) -> str:
    db = (Path(project_folder) / "mlflow" / "mlflow.db").resolve()
    return f"sqlite:///{db}"


def artifact_root(project_folder: Path) -> str:
    return (Path(project_folder) / "mlflow" / "artifacts").resolve().as_uri()


def resolve_uri(explicit: str | None, project_folder: Path) -> str:
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or default_uri(project_folder)


def check_server(uri: str, timeout: float = HTTP_TIMEOUT_S) -> None:
    """Fail fast, with the address, when an HTTP tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            if r.status != 200:
                raise XwbError(f"MLflow server {uri} answered /health with HTTP {r.status}")
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise XwbError(f"MLflow server {uri} does not answer ({reason}); start it or pass another --tracking-uri") from None


def quiet_mlflow() -> None:
    """MLflow's advice to notebook users (type hints, input examples, integer columns) is noise here."""
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for pattern in (".*type hints.*", ".*input example was not provided.*", ".*integer column.*",
                    ".*can be interpreted in multiple ways.*"):
        warnings.filterwarnings("ignore", message=pattern)
    logging.getLogger("mlflow").setLevel(logging.WARNING)


_URI_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@contextlib.contextmanager
def using(uri: str | None):
    """Point MLflow at ``uri`` for a block, then put the URI environment back.

    ``mlflow.set_tracking_uri`` also writes MLFLOW_TRACKING_URI into the process
    environment; without this a second project in the same process (the demo,
    tests) would silently log into the first project's store. MLflow's URI is one
    per process, so the block holds a process-wide lock: a workbench job listing
    versions in a worker thread must not repoint a training or a pre-label running
    in another thread at its own project (seen as "Run ... not found" in tests that
    ran after a Models panel test in the same process).
    """
    with _MLFLOW_STATE:
        saved = {k: os.environ.get(k) for k in _URI_VARS}
        try:
            if uri:
                import mlflow

                mlflow.set_tracking_uri(uri)
                mlflow.set_registry_uri(uri)
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


_MLFLOW_STATE = threading.RLock()


def setup(uri: str, project_folder: Path) -> None:
    """Point MLflow at ``uri`` with short HTTP timeouts and no retries (no hangs on a dead server)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    check_server(uri)
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


def experiment_id(name: str, uri: str, project_folder: Path) -> str:
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            raise XwbError(f"MLflow experiment {name!r} is deleted; restore it or set mlflow.experiment")
        return exp.experiment_id
    loc = artifact_root(project_folder) if uri.startswith("sqlite:") else None
    return mlflow.create_experiment(name, artifact_location=loc)


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def pip_requirements() -> list[str]:
    """What loading the model needs, pinned to the versions that trained it."""
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for pkg in ("torch", "torchvision", "segmentation-models-pytorch", "timm", "monai", "safetensors", "numpy",
                "mlflow"):
        try:
            reqs.append(f"{pkg}=={version(pkg).split('+')[0]}")
        except PackageNotFoundError:
            pass
    return reqs


def log_model(net, spec: dict, registered_name: str | None) -> tuple[str, str | None]:
    """Log ``net`` as a self-contained pyfunc model (code + JSON + safetensors); register it.

    Returns (model URI of the logged model, registered version or None).
    """
    import mlflow
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec
    from safetensors.torch import save_file

    n_raw = int(spec["preprocess"]["raw_channels"])
    k = len(spec["classes"])
    task = tasks.get(spec["task"])
    out_shape = task.outputs(k)
    pre = spec["preprocess"]
    if task.volumes:  # stored CT values (B, C, Z, Y, X) and their rescale to HU
        shape: tuple[int, ...] = (-1, n_raw, -1, -1, -1)
        params = [ParamSpec("rescale", "double", list(map(float, pre["rescale"])), (-1,))]
    else:
        shape = (-1, n_raw, -1, -1)
        params = [ParamSpec("i0", "double", list(map(float, pre["default_i0"])), (-1,)),
                  ParamSpec("dark", "double", float(pre.get("default_dark", 0.0)))]
    sig = ModelSignature(inputs=Schema([TensorSpec(np.dtype(np.float32), shape, "counts")]),
                         outputs=Schema([TensorSpec(np.dtype(np.float32), out_shape, "probabilities")]),
                         params=ParamSchema(params))
    with tempfile.TemporaryDirectory(prefix="xwb-model-") as tmp:
        wpath, spath = Path(tmp) / "weights.safetensors", Path(tmp) / "spec.json"
        state = {k_: v.detach().cpu().contiguous() for k_, v in net.state_dict().items()}
        save_file(state, str(wpath))
        artifacts = {"weights": str(wpath), "spec": str(spath)}
        custom = spec["model"].get("custom")
        if custom:  # the user's network source travels with the version (and is signed with it)
            artifacts["custom_code"] = custom["source"]
            spec = {**spec, "model": {**spec["model"], "custom": {k: v for k, v in custom.items() if k != "source"}}}
        spath.write_text(json.dumps(spec, indent=1))
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*type hints.*")
            info = mlflow.pyfunc.log_model(name="model", python_model=str(MODEL_CODE),
                                           artifacts=artifacts,
                                           signature=sig, pip_requirements=pip_requirements(),
                                           registered_model_name=registered_name)
    version = getattr(info, "registered_model_version", None)
    return info.model_uri, (str(version) if version is not None else None)


def serve_ui(project_folder: Path, host: str = "127.0.0.1", port: int = 5000, wait: bool = True):
    """Start the MLflow UI on the project's embedded store; returns (process, address) once it answers."""
    import subprocess
    import sys
    import time

    uri = default_uri(project_folder)
    if not Path(uri[len("sqlite:///"):]).is_file():
        raise XwbError(f"{project_folder}: no MLflow store yet (train a model first: xwb train ... --project {project_folder})")
    with socket.socket() as s:
        if s.connect_ex((host, port)) == 0:
            raise XwbError(f"port {port} on {host} is taken; choose another with --port")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri,
                             "--default-artifact-root", artifact_root(project_folder), "--host", host,
                             "--port", str(port), "--workers", "1"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_die_with_parent)
    address = f"http://{host}:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise XwbError(f"mlflow server exited: {(proc.stderr.read() or '').strip().splitlines()[-1:]}")
        try:
            check_server(address, timeout=2)
            return proc, address
        except XwbError:
            time.sleep(0.5)
    proc.terminate()
    raise XwbError(f"mlflow server on {address} did not answer within 90 s")


def _die_with_parent() -> None:
    """In the server's process, before exec: SIGTERM it when xwb dies, even by SIGKILL (Linux prctl
    PR_SET_PDEATHSIG); the server then stops its own workers, as on Ctrl-C. Elsewhere: a no-op."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:                    # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop_ui(proc) -> None:
    """Stop a server from ``serve_ui`` and every worker it started (its own process group)."""
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
