"""``xwb`` subcommands of the core: init, add, info, import, export, split.

Each handler takes parsed args and returns an exit code; user errors raise
XwbError and are printed by ``workbench.cli.main`` as one line.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from datasets.errors import XwbError


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
    p = Project.create(folder, name=a.name, taxonomy=tax, image_root=a.image_root)
    print(f"created project {p.name!r} in {folder} ({len(p.taxonomy.classes)} classes, {len(p.taxonomy.tags)} tags)")
    p.close()
    return 0


def cmd_add(a) -> int:
    with _open(a.project) as p:
        s = p.add_scans(a.paths)
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
    from datasets.formats import importer

    with _open(a.project) as p:
        s = importer(a.format)(p, a.file, add_classes=a.add_classes)
    print(s.line())
    return 0


def cmd_export(a) -> int:
    with _open(a.project, readonly=True) as p:
        if a.format == "coco":
            from datasets.formats.coco import export_coco

            out = Path(a.out)
            if out.is_symlink():
                raise XwbError(f"{out}: is a symbolic link; refusing to export through it")
            if out.is_dir() or not out.suffix:
                out = out / "annotations.json"
            r = export_coco(p, out, with_proposals=a.with_proposals, with_rejected=a.with_rejected,
                            overwrite=a.overwrite)
            print(f"wrote {out}: {r['images']} images, {r['annotations']} annotations")
        elif a.format == "labelme":
            from datasets.formats.labelme import export_labelme

            r = export_labelme(p, a.out, with_proposals=a.with_proposals, with_rejected=a.with_rejected,
                               overwrite=a.overwrite)
            print(f"wrote {r['files']} labelme files ({r['shapes']} shapes) under {a.out}")
        elif a.format == "cvat":
            from datasets.formats.cvat import export_cvat

            r = export_cvat(p, a.out, with_proposals=a.with_proposals, with_rejected=a.with_rejected,
                            overwrite=a.overwrite)
            extra = f"; left out {r['skipped']} don't-care areas of no class" if r["skipped"] else ""
            print(f"wrote {r['file']}: {r['images']} images, {r['shapes']} shapes{extra}")
        elif a.format == "yolo":
            from datasets.formats.yolo import export_yolo

            r = export_yolo(p, a.out, with_proposals=a.with_proposals, with_rejected=a.with_rejected,
                            overwrite=a.overwrite)
            extra = f"; left out {r['skipped']} don't-care areas (YOLO has no such label)" if r["skipped"] else ""
            print(f"wrote {r['files']} YOLO label files ({r['lines']} objects) and data.yaml under {a.out}{extra}")
        else:
            from datasets.formats.masks import export_masks

            r = export_masks(p, a.out, per_class=a.per_class, overwrite=a.overwrite)
            print(f"wrote label maps of {r['images']} images under {a.out}")
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
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add", help="add scans (files or folders, recursive)")
    p.add_argument("project")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("info", help="counts by status, class, split, region state, depth")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("import", help="import COCO, labelme, CVAT or YOLO annotations (all or nothing)")
    p.add_argument("format", choices=["coco", "labelme", "cvat", "yolo"])
    p.add_argument("project")
    p.add_argument("file", help="COCO JSON; labelme JSON file or folder; CVAT for images XML (or its folder); "
                                "YOLO folder (data.yaml or classes.txt, labels/)")
    p.add_argument("--add-classes", action="store_true", help="add unknown classes and tags to the taxonomy")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export COCO, labelme, CVAT, YOLO or label-map PNGs")
    p.add_argument("format", choices=["coco", "labelme", "cvat", "yolo", "masks"])
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
