"""``xwb`` subcommands of the core: init, add, info, import, export, split.

Each handler takes parsed args and returns an exit code; user errors raise
XwbError and are printed by ``workbench.cli.main`` as one line.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from datasets import formats
from datasets.errors import XwbError
from datasets.scan import check_axes


def _open(path: str, readonly: bool = False):
    import sys

    from datasets.project import Project

    p = Project.open(path, readonly=readonly)
    for w in p.config.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return p


def cmd_init(a) -> int:
    from datasets.project import Project
    from datasets.taxonomy import Taxonomy

    folder = Path(a.project)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "project.yaml").exists() and not a.force:
        raise XwbError(f"{folder}: folder is not empty (use --force to make a project in it anyway)")
    tax = Taxonomy.load(a.taxonomy) if a.taxonomy else None
    store = None
    if a.store or a.dsn or a.schema:
        store = {"backend": a.store or "postgres", **({"dsn": a.dsn} if a.dsn else {}),
                 **({"schema": a.schema} if a.schema else {})}
    p = Project.create(folder, name=a.name, taxonomy=tax, image_root=a.image_root, store=store)
    where = f", store {store['backend']}" if store else ""
    print(f"created project {p.name!r} in {folder} ({len(p.taxonomy.classes)} classes, {len(p.taxonomy.tags)} tags{where})")
    p.close()
    return 0


def _since(text: str | None) -> float | None:
    if not text:
        return None
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise XwbError(f"--since {text!r}: a date or time like 2026-12-01 or 2026-12-01T14:30") from None


def cmd_history(a) -> int:
    import datetime as dt
    import json

    with _open(a.project, readonly=True) as p:
        iid = None
        if a.image:
            iid = int(a.image) if a.image.isdigit() else p.store.image_id_by_path(a.image)
            if iid is None:
                raise XwbError(f"--image {a.image}: no such scan in {p.name}")
        entries = p.store.history(image_id=iid, region_id=a.region, who=a.who, since=_since(a.since))
        paths = {r.id: r.path for r in p.store.images(with_sets=False)}
    if a.last:
        entries = entries[-a.last:]
    for e in entries:
        if a.json:
            print(json.dumps({**e.as_dict(), "path": paths.get(e.image_id)}, sort_keys=True))
            continue
        when = dt.datetime.fromtimestamp(e.at).strftime("%Y-%m-%d %H:%M:%S")
        where = paths.get(e.image_id) or (e.before or {}).get("path") or f"image {e.image_id}"
        region = f"  region {e.region_id}" if e.region_id is not None else ""
        print(f"{when}  {e.who}  {e.program}  {e.action}  {where}{region}  {e.summary()}")
    if not entries and not a.json:
        print("no changes recorded" + (" that match" if a.image or a.region or a.who or a.since else ""))
    return 0


def cmd_add(a) -> int:
    with _open(a.project) as p:
        s = p.add_scans(a.paths, axes=check_axes(a.axes) if a.axes else None)
    for n in s.notes:
        print(f"note: {n}")
    print(f"added {s.added} scans, {s.skipped_known} already in the project, {len(s.failed)} unreadable")
    for f in s.failed:
        print(f"  skipped: {f}")
    return 1 if s.failed else 0


def info_dict(p) -> dict:
    from datasets.digest import snapshot_digest

    c = p.store.counts()
    tax = p.taxonomy
    return {
        "name": p.name,
        "folder": str(p.folder),
        "image_root": str(p.image_root),
        "images": c["images"],
        "regions": c["regions"],
        "by_status": c["by_status"],
        "by_split": c["by_split"],
        "by_region_state": c["by_state"],
        "by_class": {tax.by_id(cid).name if cid in tax.ids else f"#{cid}": v for cid, v in c["by_class"].items()},
        "by_tag": c["by_tag"],
        "depth_and_layout": c["by_depth_layout"],
        "classes": tax.names,
        "tags": tax.tags,
        "digest": snapshot_digest(p),
        "schema_version": p.store.schema_version(),
    }


def cmd_info(a) -> int:
    with _open(a.project, readonly=True) as p:
        d = info_dict(p)
    if a.json:
        print(json.dumps(d, indent=1))
        return 0
    print(f"project {d['name']}  ({d['folder']})")
    print(f"  images: {d['images']}   regions: {d['regions']}   dataset digest: {d['digest'][:12]}")
    print("  status:    " + _kv(d["by_status"]))
    print("  split:     " + _kv(d["by_split"]))
    print("  regions:   " + _kv(d["by_region_state"]))
    print("  classes:   " + _kv({k: f"{v['regions']} in {v['images']} images" for k, v in d["by_class"].items()}))
    print("  tags:      " + _kv(d["by_tag"]))
    print("  scans:     " + _kv(d["depth_and_layout"]))
    return 0


def _kv(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "-"


def cmd_import(a) -> int:
    from datasets import formats

    with _open(a.project) as p:
        print(formats.run_import(a.format, p, a.file, add_classes=a.add_classes))
    return 0


def cmd_export(a) -> int:
    from datasets import formats

    with _open(a.project, readonly=True) as p:
        print(formats.export(a.format, p, a.out, with_proposals=a.with_proposals, with_rejected=a.with_rejected,
                             overwrite=a.overwrite, per_class=a.per_class))
    return 0


def cmd_split(a) -> int:
    from datasets.splits import assign_splits

    with _open(a.project) as p:
        added = assign_splits(p)
        total = p.store.counts()["by_split"]
    print(f"assigned {sum(added.values())} images ({_kv(added)}); now {_kv(total)}; existing splits never move")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a project folder", description="Create a project: project.yaml + store.")
    p.add_argument("project")
    p.add_argument("--taxonomy", help="taxonomy YAML (default: configs/taxonomy.yaml)")
    p.add_argument("--name", help="project name (default: folder name)")
    p.add_argument("--image-root", default=".", help="folder the image paths are relative to (default: the project)")
    p.add_argument("--force", action="store_true", help="allow a non-empty folder")
    from datasets import stores

    p.add_argument("--store", choices=stores.names(), help="store backend (default sqlite: a file in the folder; "
                                                          "postgres: a schema on a team's server)")
    p.add_argument("--dsn", help="postgres: the server, postgresql://user@host:port/database")
    p.add_argument("--schema", help="postgres: the project's schema on the server (default xwb)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add", help="add scans (files or folders, recursive)")
    p.add_argument("project")
    p.add_argument("paths", nargs="+")
    p.add_argument("--axes", help="what the files hold when their readers cannot tell: yx, yxc (channels last: "
                                  "dual energy high, low), zyx (slices) or zyxc; a reader that guesses says so")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("info", help="counts by status, class, split, region state, depth")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("history", help="who changed which label, when, from which program, from what to what",
                       description="The project's history: every change to regions, status, tags, comment and "
                                   "manifest, oldest first (append-only).")
    p.add_argument("project")
    p.add_argument("--image", help="only this scan: its id or its path in the project")
    p.add_argument("--region", type=int, help="only this region id")
    p.add_argument("--who", help="only changes by this person")
    p.add_argument("--since", help="only changes from this date or time on (2026-12-01 or 2026-12-01T14:30)")
    p.add_argument("--last", type=int, help="only the last N entries")
    p.add_argument("--json", action="store_true", help="one JSON object per line, before and after whole")
    p.set_defaults(func=cmd_history)

    ins, outs = formats.importers(), formats.exporters()
    p = sub.add_parser("import", help=f"import {', '.join(ins)} annotations (all or nothing)")
    p.add_argument("format", choices=list(ins))
    p.add_argument("project")
    p.add_argument("file", help="; ".join(f"{n}: {m.IMPORT_HELP}" for n, m in ins.items()))
    p.add_argument("--add-classes", action="store_true", help="add unknown classes and tags to the taxonomy")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help=f"export {', '.join(outs)} (masks: label-map PNGs)")
    p.add_argument("format", choices=list(outs))
    p.add_argument("project")
    p.add_argument("out")
    p.add_argument("--with-proposals", action="store_true", help="include model proposals (all but masks)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files a previous export wrote (without it, an existing file is refused)")
    p.add_argument("--with-rejected", action="store_true",
                   help="include rejected proposals, the model's false alarms (coco, labelme; state 'rejected')")
    p.add_argument("--per-class", action="store_true", help="also write one binary mask per class (masks)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("split", help="assign train/val/test to images without one (frozen)")
    p.add_argument("project")
    p.set_defaults(func=cmd_split)
