"""Dataset versions: a content digest of what a model trains on.

The digest covers the taxonomy, every image's content hash, path and split,
its tags and manifest, and every accepted region's class and exact geometry.
It leaves out what does not change the labels: ids, times, authors, status,
comments and model proposals. Export then import into a fresh project gives
the same digest.
"""
from __future__ import annotations

import hashlib
import json

from datasets.project import Project


def snapshot_digest(project: Project) -> str:
    """sha256 hex of the labelled dataset (accepted regions only)."""
    h = hashlib.sha256()
    tax = project.taxonomy.to_dict()
    tax_key = {"classes": sorted(({"id": c["id"], "name": c["name"]} for c in tax["classes"]),
                                 key=lambda c: c["id"]), "tags": sorted(tax["tags"])}
    h.update(json.dumps(tax_key, sort_keys=True).encode())
    images = project.store.images()
    regions: dict[int, list[bytes]] = {}
    for r in project.store.iter_regions(state="accepted"):
        regions.setdefault(r.image_id, []).append(hashlib.sha256(r.content_key()).digest())
    for im in sorted(images, key=lambda i: i.path):
        h.update(json.dumps([im.path, im.sha256, im.split, sorted(im.tags), sorted(im.manifest)]).encode())
        for k in sorted(regions.get(im.id, [])):
            h.update(k)
    return h.hexdigest()


def short(digest: str) -> str:
    return digest[:12]
