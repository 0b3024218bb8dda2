"""Train/val/test assignment: deterministic, class-aware, and frozen once made.

An image's split is written once and never changed (the store refuses to
overwrite it), so adding scans or labels can never move a test image into
training. Unassigned images are placed greedily, rarest class first, into the
split that is furthest below its target share for that image's classes; the
order is fixed by content hashes, so the same project gives the same splits.

A class held by at least ``MIN_FOR_EVERY_SPLIT`` images wants at least one image in val and in test
even where its share rounds to less (4 firearm scans at 70/15/15 would otherwise all land in train,
and the test split could not measure firearms at all). The image's rarest class decides first, as in
iterative stratification: a common class cannot outvote the rare one it shares a scan with.
"""
from __future__ import annotations

import hashlib

from datasets.project import Project
from datasets.stores import SPLITS

MIN_FOR_EVERY_SPLIT = 3  # images of a class from which val and test each want one of them


def assign_splits(project: Project) -> dict[str, int]:
    """Assign every image without a split; returns how many went to each split."""
    target = project.config.splits
    store = project.store
    images = store.images(with_sets=False)
    classes = store.region_classes_by_image("accepted")
    # current counts per split: images, and images per class
    n_img = {s: 0 for s in SPLITS}
    n_cls: dict[int, dict[str, int]] = {}
    todo = []
    for im in images:
        cls = classes.get(im.id, set())
        if im.split:
            n_img[im.split] += 1
            for c in cls:
                n_cls.setdefault(c, {s: 0 for s in SPLITS})[im.split] += 1
        else:
            todo.append((im, cls))
    total_per_class: dict[int, int] = {}
    for im in images:
        for c in classes.get(im.id, set()):
            total_per_class[c] = total_per_class.get(c, 0) + 1

    def order(item):
        im, cls = item
        rarity = min((total_per_class[c] for c in cls), default=10**12)
        return (rarity, hashlib.sha256(f"{im.sha256}:{im.path}".encode()).hexdigest())

    todo.sort(key=order)
    quota = _quotas(target, len(images))
    assignment: dict[int, str] = {}
    added = {s: 0 for s in SPLITS}
    for im, cls in todo:
        open_ = [s for s in SPLITS if target[s] > 0 and n_img[s] < quota[s]] or [s for s in SPLITS if target[s] > 0]

        def deficit(c: int, s: str) -> float:
            """How far split s is below what it wants of class c (known totals)."""
            want = target[s] * total_per_class[c]
            if s != "train" and target[s] > 0 and total_per_class[c] >= MIN_FOR_EVERY_SPLIT:
                want = max(want, 1.0)
            return want - n_cls.get(c, {}).get(s, 0)

        rarest = min(cls, key=lambda c: (total_per_class[c], c)) if cls else None

        def score(s: str) -> tuple[float, float, float]:
            # the rarest class first, then the mean over the image's classes, then the split's room
            mean_def = sum(deficit(c, s) for c in cls) / max(1, len(cls))  # noqa: B023 (called within this iteration)
            first = deficit(rarest, s) if rarest is not None else 0.0  # noqa: B023 (called within this iteration)
            return (first, mean_def, quota[s] - n_img[s])

        best = max(open_, key=lambda s: (score(s), -SPLITS.index(s)))
        assignment[im.id] = best
        n_img[best] += 1
        added[best] += 1
        for c in cls:
            n_cls.setdefault(c, {s: 0 for s in SPLITS})[best] += 1
    if assignment:
        store.set_splits(assignment)
    return added


def _quotas(target: dict[str, float], n: int) -> dict[str, int]:
    """Image counts per split for n images (largest remainder); val and test get at least one from 3 images."""
    raw = {s: target[s] * n for s in SPLITS}
    q = {s: int(raw[s]) for s in SPLITS}
    for s in sorted(SPLITS, key=lambda s: -(raw[s] - q[s]))[: n - sum(q.values())]:
        q[s] += 1
    if n >= 3:
        for s in ("val", "test"):
            if target[s] > 0 and q[s] == 0:
                q[s] = 1
                q["train"] -= 1
    return q
