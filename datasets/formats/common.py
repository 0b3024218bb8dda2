"""What importers share: a plan validated in full before one transaction applies it.

Importers parse and check the whole input first and collect an ``ImportPlan``;
only a plan without errors is applied, in a single store transaction, so a
refused import leaves the project exactly as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.stores import STATUSES, ImageRecord
from datasets.taxonomy import check_name


def real_size(project: Project, rel: str, where: str) -> tuple[int, int]:
    """(width, height) of an image of the project, or of a file under its image root (header only)."""
    iid = project.store.image_id_by_path(rel)
    if iid is not None:
        rec = project.store.image(iid)
        return rec.width, rec.height
    f = project.image_path(rel)
    if not f.is_file():
        raise XwbError(f"{where}: image file {rel!r} not found under {project.image_root}")
    from datasets.scanio import scan_info

    info = scan_info(f)
    return info.width, info.height


def _refuse_volume(rec: ImageRecord, source, where: str) -> None:
    """2-D labels (every import format so far) never land on a volume's record."""
    if rec.is_volume:
        raise XwbError(f"{source}: {where}: {rec.path} is a volume ({rec.depth} slices); this format holds "
                       "2-D labels, nothing was imported")


def check_real_size(project: Project, rel: str, width: int, height: int, where: str) -> None:
    """The size a file *says* an image has must be its real size before any mask is decoded at that size
    (a 200-byte RLE claiming 100000x100000 would otherwise allocate 10 GB). Reads only the header."""
    real = real_size(project, rel, where)
    if real != (width, height):
        raise XwbError(f"{where}: says {width}x{height} but {rel} is {real[0]}x{real[1]}")


@dataclass
class PlannedImage:
    rel: str
    width: int
    height: int
    regions: list[tuple[str | None, Region]] = field(default_factory=list)  # (class name or None, region);
    # a region's group is a number of this file (1, 2, ...) until it is written
    tags: list[str] | None = None
    manifest: list[str] | None = None
    status: str | None = None
    comment: str | None = None
    where: str = ""


@dataclass
class ImportSummary:
    images: int = 0
    new_images: int = 0
    regions: int = 0
    duplicates: int = 0
    skipped_shapes: dict[str, int] = field(default_factory=dict)
    clipped: int = 0
    added_classes: list[str] = field(default_factory=list)
    added_tags: list[str] = field(default_factory=list)

    def line(self) -> str:
        s = f"imported {self.regions} regions on {self.images} images ({self.new_images} new images)"
        if self.duplicates:
            s += f", {self.duplicates} already present"
        if self.skipped_shapes:
            s += ", skipped " + ", ".join(f"{n} {k}" for k, n in sorted(self.skipped_shapes.items()))
        if self.clipped:
            s += f"; clipped {self.clipped} vertices that lay up to {BORDER_SLACK:g} px outside the image onto its border"
        if self.added_classes:
            s += f"; added classes: {', '.join(self.added_classes)}"
        if self.added_tags:
            s += f"; added tags: {', '.join(self.added_tags)}"
        return s


@dataclass
class ImportPlan:
    source: Path
    images: list[PlannedImage] = field(default_factory=list)
    skipped_shapes: dict[str, int] = field(default_factory=dict)
    clipped: int = 0  # vertices a fraction of a pixel outside the image, clipped onto its border

    def skip(self, kind: str) -> None:
        self.skipped_shapes[kind] = self.skipped_shapes.get(kind, 0) + 1

    def apply(self, project: Project, add_classes: bool = False) -> ImportSummary:
        tax = project.taxonomy
        names = {n for im in self.images for n, _ in im.regions if n is not None}  # None: "don't care" area
        unknown = sorted(n for n in names if not tax.has_name(n))
        tags = {t for im in self.images for t in (im.tags or [])}
        unknown_tags = sorted(t for t in tags if t not in tax.tags)
        if (unknown or unknown_tags) and not add_classes:
            parts = []
            if unknown:
                parts.append(f"classes not in the taxonomy: {', '.join(unknown)}")
            if unknown_tags:
                parts.append(f"tags not in the taxonomy: {', '.join(unknown_tags)}")
            raise XwbError(f"{self.source}: {'; '.join(parts)} (use --add-classes to add them)")
        for n in unknown:
            check_name(n, f"{self.source}: class {n!r}")
        for t in unknown_tags:
            check_name(t, f"{self.source}: tag {t!r}")
        for im in self.images:
            if im.status is not None and im.status not in STATUSES:
                raise XwbError(f"{self.source}: {im.where}: status {im.status!r} is not one of {', '.join(STATUSES)}")

        # Images: existing ones must match their size; new ones must exist under the image root.
        store = project.store
        new_recs: list[ImageRecord] = []
        ids: dict[str, int] = {}
        for im in self.images:
            iid = store.image_id_by_path(im.rel)
            if iid is not None:
                rec = store.image(iid)
                _refuse_volume(rec, self.source, im.where)
                if (rec.width, rec.height) != (im.width, im.height):
                    raise XwbError(f"{self.source}: {im.where}: says {im.width}x{im.height} but {im.rel} "
                                   f"is {rec.width}x{rec.height}")
                ids[im.rel] = iid
                continue
            if im.rel in {r.path for r in new_recs}:
                continue
            f = project.image_path(im.rel)
            if not f.is_file():
                raise XwbError(f"{self.source}: {im.where}: image file {im.rel!r} not found under {project.image_root}")
            rec = project.make_record(f, im.rel)
            _refuse_volume(rec, self.source, im.where)
            if (rec.width, rec.height) != (im.width, im.height):
                raise XwbError(f"{self.source}: {im.where}: says {im.width}x{im.height} but {im.rel} "
                               f"is {rec.width}x{rec.height}")
            new_recs.append(rec)

        summary = ImportSummary(skipped_shapes=dict(self.skipped_shapes), clipped=self.clipped)
        old_config = project.config.to_dict()
        try:
            self._write(project, store, tax, ids, new_recs, unknown, unknown_tags, add_classes, summary)
        except BaseException:
            project.config = type(project.config).from_dict(old_config, "project.yaml")
            raise
        return summary

    def _write(self, project, store, tax, ids, new_recs, unknown, unknown_tags, add_classes, summary) -> None:
        with store.transaction():
            if add_classes:
                for n in unknown:
                    tax.add_class(n)
                for t in unknown_tags:
                    tax.add_tag(t)
                summary.added_classes, summary.added_tags = unknown, unknown_tags
            if new_recs:
                for rid, rec in zip(store.add_images(new_recs), new_recs):
                    ids[rec.path] = rid
                summary.new_images = len(new_recs)
            for im in self.images:
                iid = ids[im.rel]
                present = {r.content_key() for r in store.regions(iid)}
                base = store.max_group(iid)  # the file's groups become new groups of this image
                regs = []
                for name, r in im.regions:
                    r.class_id = tax.by_name(name).id if name is not None else 0
                    if r.group is not None:
                        r.group += base
                    if r.content_key() in present:  # already in the project (a re-import): not twice
                        summary.duplicates += 1
                        continue
                    regs.append(r)
                store.add_regions(iid, regs)
                summary.regions += len(regs)
                if any(v is not None for v in (im.status, im.comment, im.tags, im.manifest)):
                    store.update_image(iid, status=im.status, comment=im.comment, tags=im.tags, manifest=im.manifest)
            summary.images = len(ids)
            if add_classes and (unknown or unknown_tags):
                project.save_config()  # last step inside the transaction: a failure rolls the rows back


BORDER_SLACK = 1.0  # px: labelme and labelme2coco write border clicks a fraction of a pixel outside the image


SPLITS_FILE = "splits.json"  # beside a folder export: which scan is in which split, and the dataset digest


def dataset_card(project: Project) -> dict:
    """What ties an export to a dataset version: the digest of its labels and the split of every scan, so a
    model trained outside xwb on the export can be traced back to the same labels and the same test set."""
    from datasets.digest import snapshot_digest

    splits: dict[str, list[str]] = {"train": [], "val": [], "test": [], "unassigned": []}
    for im in project.store.images():
        splits[im.split or "unassigned"].append(im.path)
    return {"project": project.name, "dataset_digest": snapshot_digest(project), "splits": splits}


def card_bytes(project: Project) -> bytes:
    import json

    return json.dumps(dataset_card(project), indent=1).encode()


def check_points(points, width: int, height: int, where: str, plan: ImportPlan | None = None):
    """Validate an (N, 2) point list inside the image (edges inclusive); returns it as floats.

    Vertices up to ``BORDER_SLACK`` px outside (a click on the border, as labelme records it) are clipped
    onto the border and counted in ``plan.clipped``; anything further out is refused.
    """
    import numpy as np

    try:
        p = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise XwbError(f"{where}: points must be numbers") from None
    if p.ndim != 2 or p.shape[1] != 2:
        raise XwbError(f"{where}: points must be [x, y] pairs")
    if not np.isfinite(p).all():
        raise XwbError(f"{where}: points must be finite numbers")
    slack = BORDER_SLACK if plan is not None else 0.0
    if (p < -slack).any() or (p[:, 0] > width + slack).any() or (p[:, 1] > height + slack).any():
        bad = p[(p[:, 0] < -slack) | (p[:, 1] < -slack) | (p[:, 0] > width + slack) | (p[:, 1] > height + slack)][0]
        raise XwbError(f"{where}: point ({bad[0]:g}, {bad[1]:g}) is outside the {width}x{height} image")
    clipped = np.clip(p, 0, [width, height])
    if plan is not None:
        plan.clipped += int((clipped != p).any(axis=1).sum())
    return clipped


def area_polygon(pts, where: str, plan: ImportPlan):
    """``pts`` when they make a polygon with an area; refused under 3 points, skipped (and counted) when
    collinear: a zero-area shape has no pixel to label."""
    if len(pts) < 3:
        raise XwbError(f"{where}: polygon has {len(pts)} points; needs at least 3")
    if polygon_area(pts) == 0:
        plan.skip("zero-area polygons")
        return None
    return pts


def plan_image(project: Project, source: Path, where: str, name: str, width: int, height: int, seen: set[str],
               key: str = "file_name") -> PlannedImage:
    """The image record ``where`` of annotation file ``source`` names, checked: a path under the image root,
    named once in the file, and of the size the file says (header only)."""
    rel = project.check_relpath(name, f"{source}: {where}.{key}")
    if rel in seen:
        raise XwbError(f"{source}: {where}: {key} {name!r} appears twice")
    seen.add(rel)
    check_real_size(project, rel, width, height, f"{source}: {where}")
    return PlannedImage(rel, width, height, where=where)


def polygon_area(p) -> float:
    """Shoelace area of an (N, 2) polygon."""
    import numpy as np

    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2.0)


def need(d, key: str, types, where: str):
    if not isinstance(d, dict):
        raise XwbError(f"{where}: expected an object")
    if key not in d:
        raise XwbError(f"{where}: '{key}' missing")
    v = d[key]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,))):
        raise XwbError(f"{where}.{key}: wrong type ({type(v).__name__})")
    return v


def load_json(path: Path):
    import json

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise XwbError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise XwbError(f"{path}: malformed JSON ({str(e).splitlines()[0]})") from None
    except RecursionError:
        raise XwbError(f"{path}: malformed JSON (nested too deeply)") from None


def decision(r: Region) -> dict:
    """Who accepted or rejected a proposal, and when, for an export's ``xwb`` block (empty when nobody did)."""
    return {"decided_by": r.decided_by, "decided_at": r.decided_at} if r.decided_by else {}


def read_decision(extra: dict, where: str) -> dict:
    """The inverse of ``decision``, checked."""
    by, at = extra.get("decided_by", ""), extra.get("decided_at")
    if not isinstance(by, str):
        raise XwbError(f"{where}.xwb.decided_by: must be a string")
    if at is not None and (not isinstance(at, (int, float)) or isinstance(at, bool)):
        raise XwbError(f"{where}.xwb.decided_at: must be a number (seconds since 1970)")
    return {"decided_by": by, "decided_at": None if at is None else float(at)}
