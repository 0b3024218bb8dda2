"""Model versions that cannot be changed unnoticed, and registrations that are whole or invisible.

Loading a model version runs Python code stored with it (``model_code.py``:
MLflow "models from code"), so whoever can write to the MLflow store could make
``xwb predict`` run anything. At registration xwb records the SHA-256 of every
file of the version as version tags; before loading, the version is copied to a
private folder, hashed, and loaded from that copy only if every digest matches.
A deliberate change is re-signed with ``xwb sign models:/NAME/VERSION``.

Registration takes several MLflow calls (log, register, tags); a process killed
in between would leave a version that looks usable. The tag ``xwb.registration
= complete`` is written last: a version without it is refused by predict,
evaluate and promote, and ``xwb train --resume`` completes it instead of
registering another one.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from datasets.errors import XwbError

DIGEST = "xwb.sha256"                     # over every file of the version (relative path + content)
FILE_TAGS = {"model_code.py": "xwb.sha256.code", "spec.json": "xwb.sha256.spec",
             "weights.safetensors": "xwb.sha256.weights"}
COMPLETE = "xwb.registration"
PENDING = "xwb.pending_version_tags"      # run tag: the version tags to write, saved before registering


def file_digests(folder: Path) -> dict[str, str]:
    out = {}
    for f in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[f.relative_to(folder).as_posix()] = h.hexdigest()
    return out


def overall(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def _download(name: str, version: str, dst: Path) -> Path:
    import mlflow

    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(dst)))
    except Exception as e:  # noqa: BLE001 - MlflowException, OSError: one line, with the version
        raise XwbError(f"models:/{name}/{version}: cannot read its files ({str(e).strip().splitlines()[0][:200]})") \
            from None


def sign(client, name: str, version: str) -> str:
    """Hash the version's files as they are in the store now and record the digests as version tags."""
    with tempfile.TemporaryDirectory(prefix="xwb-sign-") as tmp:
        d = file_digests(_download(name, version, Path(tmp)))
    for rel, tag in FILE_TAGS.items():
        match = [v for k, v in d.items() if k.rsplit("/", 1)[-1] == rel]
        if match:
            client.set_model_version_tag(name, version, tag, match[0])
    digest = overall(d)
    client.set_model_version_tag(name, version, f"{DIGEST}.files", json.dumps(d, sort_keys=True))
    client.set_model_version_tag(name, version, DIGEST, digest)
    return digest


def complete(client, name: str, version: str, tags: dict[str, str]) -> None:
    """Write the version's tags, sign it, and only then mark the registration complete."""
    for k, v in tags.items():
        client.set_model_version_tag(name, version, k, str(v))
    sign(client, name, version)
    client.set_model_version_tag(name, version, COMPLETE, "complete")


def is_complete(mv) -> bool:
    return (mv.tags or {}).get(COMPLETE) == "complete"


def registration_state(client, mv) -> str:
    """'complete'; 'interrupted' (xwb began registering it and died); or 'legacy' (registered by an
    xwb from before signatures: whole, but unsigned)."""
    if is_complete(mv):
        return "complete"
    try:
        pending = PENDING in client.get_run(mv.run_id).data.tags
    except Exception:  # noqa: BLE001 - the run may be gone; then nobody can resume it either
        pending = False
    return "interrupted" if pending or "dataset_digest" not in (mv.tags or {}) else "legacy"


def check_complete(client, mv, name: str) -> None:
    state = registration_state(client, mv)
    if state == "interrupted":
        raise XwbError(f"models:/{name}/{mv.version}: its registration was interrupted (no '{COMPLETE}' tag); "
                       f"finish it with `xwb train ... --resume {mv.run_id}`, or delete the version")
    if state == "legacy":
        raise XwbError(f"models:/{name}/{mv.version}: registered by an earlier xwb, before versions were signed; "
                       f"check it, then `xwb sign models:/{name}/{mv.version} --reason ...`")


def resign(client, name: str, version: str, reason: str) -> tuple[str, str]:
    """``xwb sign``: record the digests of the files as they are now, who did it and why. A version from
    before signatures becomes complete too (whoever signs it vouches for it); an interrupted registration
    is refused (resume its run instead). Returns (old digest, new digest)."""
    import getpass
    import socket

    mv = client.get_model_version(name, version)
    state = registration_state(client, mv)
    if state == "interrupted":
        check_complete(client, mv, name)  # raises with the resume command
    old = (mv.tags or {}).get(DIGEST, "")
    new = sign(client, name, version)
    client.set_model_version_tag(name, version, "xwb.signed_by",
                                 f"{reason} ({getpass.getuser()}@{socket.gethostname()})")
    if state == "legacy":
        client.set_model_version_tag(name, version, COMPLETE, "complete")
    return old, new


def verified_copy(client, name: str, version: str, dst: Path) -> Path:
    """Copy the version into ``dst`` and check every file against its signature; returns the copy."""
    mv = client.get_model_version(name, version)
    check_complete(client, mv, name)
    tags = mv.tags or {}
    want = tags.get(DIGEST)
    if not want:
        raise XwbError(f"models:/{name}/{version}: not signed (no {DIGEST} tag); check its files, then "
                       f"`xwb sign models:/{name}/{version}`")
    local = _download(name, version, dst)
    got = file_digests(local)
    if overall(got) != want:
        try:
            listed = json.loads(tags.get(f"{DIGEST}.files", "{}"))
        except ValueError:
            listed = {}
        changed = sorted(k for k in set(got) | set(listed) if got.get(k) != listed.get(k)) or ["(unknown)"]
        raise XwbError(f"models:/{name}/{version}: its files changed since registration ({', '.join(changed[:5])}); "
                       f"refusing to load it (loading runs its model_code.py). If the change was deliberate: "
                       f"`xwb sign models:/{name}/{version}`")
    return local
