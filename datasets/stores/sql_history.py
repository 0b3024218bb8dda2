"""The history's SQL, shared by the SQL backends (sqlite, and postgres through its adapter): writing an entry
inside the change's own transaction, and reading entries back by scan, region, person and time."""
from __future__ import annotations

import time

from datasets.regions import Region
from datasets.stores import history as H
from datasets.stores.history import HistoryEntry

HISTORY_SINCE = 8  # the schema version that has the history table


class HistoryQueries:
    """Mixed into a SQL store: ``self.conn`` and ``self._version`` come from the backend."""

    _who: str | None = None
    _program: str | None = None

    def set_actor(self, who: str | None = None, program: str | None = None) -> None:
        """Who makes this store's changes and from which program (the workbench: the annotator, 'workbench')."""
        self._who, self._program = who, program

    def _record(self, c, action: str, image_id: int, region_id: int | None, before: dict | None,
                after: dict | None) -> None:
        if self._version < HISTORY_SINCE:  # type: ignore[attr-defined]
            return
        c.execute("INSERT INTO history (at, who, program, action, image_id, region_id, before_json, after_json) "
                  "VALUES (?,?,?,?,?,?,?,?)",
                  (time.time(), self._who or H.default_who(), self._program or H.program(), action, image_id,
                   region_id, H.dumps(before), H.dumps(after)))

    def _record_region(self, c, action: str, before: Region | None, after: Region | None) -> None:
        r = after if after is not None else before
        assert r is not None and r.image_id is not None
        self._record(c, action, r.image_id, r.id, H.region_state(before) if before is not None else None,
                     H.region_state(after) if after is not None else None)

    def _image_state(self, c, image_id: int) -> dict | None:
        row = c.execute("SELECT path, status, comment, split FROM images WHERE id=?", (image_id,)).fetchone()
        if row is None:
            return None
        tags = [t for (t,) in c.execute("SELECT tag FROM image_tags WHERE image_id=? ORDER BY tag", (image_id,))]
        man = [t for (t,) in c.execute("SELECT item FROM manifest_items WHERE image_id=? ORDER BY item", (image_id,))]
        return {"path": row[0], "status": row[1], "comment": row[2], "split": row[3], "tags": tags, "manifest": man}

    def history(self, image_id: int | None = None, region_id: int | None = None, who: str | None = None,
                since: float | None = None, limit: int | None = None) -> list[HistoryEntry]:
        """Entries oldest first, filtered by scan, region, person and time (seconds since the epoch)."""
        if self._version < HISTORY_SINCE:  # type: ignore[attr-defined]
            return []
        conds, args = [], []  # type: list[str], list[object]
        for col, value in (("image_id", image_id), ("region_id", region_id), ("who", who)):
            if value is not None:
                conds.append(f"{col}=?")
                args.append(value)
        if since is not None:
            conds.append("at>=?")
            args.append(since)
        q = ("SELECT id, at, who, program, action, image_id, region_id, before_json, after_json FROM history"
             + (" WHERE " + " AND ".join(conds) if conds else "") + " ORDER BY id")
        if limit:
            q += f" LIMIT {int(limit)}"
        return [HistoryEntry(int(i), float(at), w, p, a, int(iid), None if rid is None else int(rid), H.loads(b),
                             H.loads(af))
                for i, at, w, p, a, iid, rid, b, af in self.conn.execute(q, args)]  # type: ignore[attr-defined]
