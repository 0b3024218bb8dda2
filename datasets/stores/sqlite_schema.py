"""The SQLite backend's schema and its forward migrations (each backend keeps its own).

A fresh store is created at version 1 and migrated forward like any old file,
so every store, new or old, went through the same steps.
"""
from __future__ import annotations

import json

import numpy as np

from datasets.regions import Region, decode_mask, encode_mask

SCHEMA_VERSION = 8

SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL, height INTEGER NOT NULL,
    channels INTEGER NOT NULL, bit_depth INTEGER NOT NULL, layout TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new','in_progress','done','reviewed','rejected')),
    comment TEXT NOT NULL DEFAULT '',
    split TEXT CHECK (split IS NULL OR split IN ('train','val','test')),
    added_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE image_tags (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (image_id, tag)
) WITHOUT ROWID;
CREATE TABLE manifest_items (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    item TEXT NOT NULL,
    PRIMARY KEY (image_id, item)
) WITHOUT ROWID;
CREATE TABLE regions (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('polygon','mask')),
    polygon BLOB, mask BLOB,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    mask_w INTEGER, mask_h INTEGER,
    area REAL NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'manual',
    score REAL,
    state TEXT NOT NULL CHECK (state IN ('proposal','accepted')),
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX regions_by_image ON regions(image_id);
CREATE INDEX regions_by_source ON regions(source);
CREATE INDEX images_by_status ON images(status);
"""

# Forward migrations: MIGRATIONS[v] turns schema v into v + 1.
MIGRATIONS: dict[int, str] = {
    # v2: editing sessions, so a second workbench on the same project opens read-only.
    1: """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
        user TEXT NOT NULL DEFAULT '', started_at REAL NOT NULL, heartbeat REAL NOT NULL
    );
    """,
    # v3: image-level suggestions of classification models (tags to accept or reject).
    2: """
    CREATE TABLE tag_proposals (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tag TEXT NOT NULL, source TEXT NOT NULL, score REAL NOT NULL,
        PRIMARY KEY (image_id, tag, source)
    ) WITHOUT ROWID;
    """,
    # v4: region ids are never reused (AUTOINCREMENT), so a stale edit can never land on another region;
    # a rejected proposal is kept (state 'rejected') with who decided and when: the model's false-alarm record.
    3: """
    CREATE TABLE regions_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        class_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('polygon','mask')),
        polygon BLOB, mask BLOB,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        mask_w INTEGER, mask_h INTEGER,
        area REAL NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'manual',
        score REAL,
        state TEXT NOT NULL CHECK (state IN ('proposal','accepted','rejected')),
        created_at REAL NOT NULL, updated_at REAL NOT NULL,
        decided_by TEXT NOT NULL DEFAULT '',
        decided_at REAL
    );
    INSERT INTO regions_v4 (id, image_id, class_id, kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, area,
                            author, source, score, state, created_at, updated_at)
        SELECT id, image_id, class_id, kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, area,
               author, source, score, state, created_at, updated_at FROM regions;
    DROP TABLE regions;
    ALTER TABLE regions_v4 RENAME TO regions;
    CREATE INDEX regions_by_image ON regions(image_id);
    CREATE INDEX regions_by_source ON regions(source);
    """,
    # v5: what other tools drew is kept: the tool's shape (labelme rectangle/circle, mask corners), the group
    # that makes several parts one object, and "don't care" areas (labelme __ignore__, COCO iscrowd).
    4: """
    ALTER TABLE regions ADD COLUMN shape TEXT;
    ALTER TABLE regions ADD COLUMN group_id INTEGER;
    ALTER TABLE regions ADD COLUMN ignore INTEGER NOT NULL DEFAULT 0;
    """,
    # v6: a scan's axes when the user said them (xwb add --axes): '' means as its reader reads the file.
    5: """
    ALTER TABLE images ADD COLUMN axes TEXT NOT NULL DEFAULT '';
    """,
    # v7: volumes. An image's depth (slices; 1 for a 2-D scan); regions of a volume: voxel masks cropped to
    # their box ('voxels': mask_d slices from z0) and 3-D boxes ('box3d': x0, y0, z0 to x1, y1, z1). The kind
    # CHECK needs the table rebuilt; the AUTOINCREMENT counter is carried over so no deleted region's id is
    # ever handed out again.
    6: """
    CREATE TABLE regions_v7 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        class_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('polygon','mask','voxels','box3d')),
        polygon BLOB, mask BLOB,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        mask_w INTEGER, mask_h INTEGER,
        area REAL NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'manual',
        score REAL,
        state TEXT NOT NULL CHECK (state IN ('proposal','accepted','rejected')),
        created_at REAL NOT NULL, updated_at REAL NOT NULL,
        decided_by TEXT NOT NULL DEFAULT '',
        decided_at REAL,
        shape TEXT, group_id INTEGER, ignore INTEGER NOT NULL DEFAULT 0,
        z0 REAL, z1 REAL, mask_d INTEGER
    );
    INSERT INTO regions_v7 (id, image_id, class_id, kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, area,
                            author, source, score, state, created_at, updated_at, decided_by, decided_at,
                            shape, group_id, ignore)
        SELECT id, image_id, class_id, kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, area,
               author, source, score, state, created_at, updated_at, decided_by, decided_at,
               shape, group_id, ignore FROM regions;
    DELETE FROM sqlite_sequence WHERE name = 'regions_v7';
    INSERT INTO sqlite_sequence (name, seq) SELECT 'regions_v7', MAX(
        COALESCE((SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'regions'), 0),
        COALESCE((SELECT MAX(id) FROM regions_v7), 0));
    DROP TABLE regions;
    ALTER TABLE regions_v7 RENAME TO regions;
    CREATE INDEX regions_by_image ON regions(image_id);
    CREATE INDEX regions_by_source ON regions(source);
    ALTER TABLE images ADD COLUMN depth INTEGER NOT NULL DEFAULT 1;
    """,
    # v8: the history (datasets/stores/history.py): every change, append-only; triggers refuse to alter it.
    7: """
    CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL, who TEXT NOT NULL, program TEXT NOT NULL, action TEXT NOT NULL,
        image_id INTEGER NOT NULL, region_id INTEGER, before_json TEXT, after_json TEXT
    );
    CREATE INDEX history_by_image ON history(image_id, id);
    CREATE INDEX history_by_region ON history(region_id);
    CREATE TRIGGER history_no_update BEFORE UPDATE ON history BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
    CREATE TRIGGER history_no_delete BEFORE DELETE ON history BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
    """,
}
IMAGE_COLS = "id, path, width, height, channels, bit_depth, layout, sha256, status, comment, split, added_at, updated_at"


def image_cols(version: int) -> str:
    """The image columns to select from a store of ``version`` (a read-only old store has no axes column)."""
    return IMAGE_COLS + (", axes" if version >= 6 else ", '' AS axes") + (", depth" if version >= 7 else ", 1 AS depth")

# Region columns a store of each version lacks, with what they read as (a read-only old store is not migrated).
REGION_DEFAULTS: dict[str, tuple[int, str]] = {
    "decided_by": (4, "''"), "decided_at": (4, "NULL"),
    "shape": (5, "NULL"), "group_id": (5, "NULL"), "ignore": (5, "0"),
    "z0": (7, "NULL"), "z1": (7, "NULL"), "mask_d": (7, "NULL"),
}
REGION_COLS = ("id, image_id, class_id, kind, polygon, mask, x0, y0, mask_w, mask_h, author, source, "
               "score, state, created_at, updated_at, decided_by, decided_at, shape, group_id, ignore, z0, x1, y1, z1, mask_d")


def region_cols(version: int) -> str:
    """The region columns to select from a store of ``version`` (missing ones read as their defaults)."""
    cols = []
    for c in REGION_COLS.split(", "):
        since, default = REGION_DEFAULTS.get(c, (0, ""))
        cols.append(c if version >= since else f"{default} AS {c}")
    return ", ".join(cols)


def split_sql(script: str) -> list[str]:
    """The statements of a script; a trigger's body (BEGIN ... END) stays whole."""
    out: list[str] = []
    for part in (s.strip() for s in script.split(";")):
        if not part:
            continue
        if out and out[-1].upper().startswith("CREATE TRIGGER") and not out[-1].upper().endswith("END"):
            out[-1] += "; " + part
        else:
            out.append(part)
    return out


REGION_GEOMETRY = "kind, polygon, mask, x0, y0, x1, y1, mask_w, mask_h, z0, z1, mask_d"


def region_row(r: Region) -> tuple:
    """A region's geometry columns (``REGION_GEOMETRY``): kind, polygon, mask, box, mask size."""
    x0, y0, z0, x1, y1, z1 = r.bbox3d()
    if r.polygon is not None:
        return ("polygon", r.polygon.astype("<f8").tobytes(), None, x0, y0, x1, y1, None, None, None, None, None)
    if r.box is not None:
        return ("box3d", None, None, x0, y0, x1, y1, None, None, z0, z1, None)
    if r.voxels is not None:
        d, h, w = r.voxels.shape
        return ("voxels", None, encode_mask(r.voxels), x0, y0, x1, y1, w, h, z0, z1, d)
    assert r.mask is not None  # a region is a polygon, a mask, voxels or a box (Region checks it)
    h, w = r.mask.shape
    return ("mask", None, encode_mask(r.mask), x0, y0, x1, y1, w, h, None, None, None)


def shape_cols(r: Region) -> tuple:
    return (json.dumps(r.shape, sort_keys=True) if r.shape else None, r.group, int(bool(r.ignore)))


def region_from_row(row) -> Region:
    (rid, iid, cid, kind, poly, mask, x0, y0, mw, mh, author, source, score, state, ca, ua, db, da,
     shape, group, ignore, z0, x1, y1, z1, md) = row
    meta = dict(state=state, source=source, score=score, author=author, id=rid, image_id=iid, created_at=ca,
                updated_at=ua, decided_by=db, decided_at=da, shape=json.loads(shape) if shape else None,
                group=group, ignore=bool(ignore))
    if kind == "polygon":
        return Region(cid, polygon=np.frombuffer(poly, dtype="<f8").reshape(-1, 2).astype(np.float64), **meta)
    if kind == "box3d":
        return Region(cid, box=np.array([x0, y0, z0, x1, y1, z1], np.float64), **meta)
    if kind == "voxels":
        return Region(cid, voxels=decode_mask(mask, mh, mw, md), mask_x=int(x0), mask_y=int(y0), mask_z=int(z0),
                      **meta)
    return Region(cid, mask=decode_mask(mask, mh, mw), mask_x=int(x0), mask_y=int(y0), **meta)
