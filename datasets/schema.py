"""The SQLite schema of the project store and its forward migrations.

A fresh store is created at version 1 and migrated forward like any old file,
so every store, new or old, went through the same steps.
"""
from __future__ import annotations

SCHEMA_VERSION = 5
STATUSES = ("new", "in_progress", "done", "reviewed", "rejected")
SPLITS = ("train", "val", "test")

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
}

# Region columns a store of each version lacks, with what they read as (a read-only old store is not migrated).
REGION_DEFAULTS: dict[str, tuple[int, str]] = {
    "decided_by": (4, "''"), "decided_at": (4, "NULL"),
    "shape": (5, "NULL"), "group_id": (5, "NULL"), "ignore": (5, "0"),
}
REGION_COLS = ("id, image_id, class_id, kind, polygon, mask, x0, y0, mask_w, mask_h, author, source, "
               "score, state, created_at, updated_at, decided_by, decided_at, shape, group_id, ignore")


def region_cols(version: int) -> str:
    """The region columns to select from a store of ``version`` (missing ones read as their defaults)."""
    cols = []
    for c in REGION_COLS.split(", "):
        since, default = REGION_DEFAULTS.get(c, (0, ""))
        cols.append(c if version >= since else f"{default} AS {c}")
    return ", ".join(cols)


def split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
