"""``xwb synth --kind ct-baggage``: a project of synthetic CT bags (``datasets.synth.ct``) with exact voxel
masks, tags and manifests, written as NIfTI volumes (uint16 CT numbers, rescale intercept −1024, cubic
voxels: 4 mm at the default size). Built in a temporary folder beside OUT and renamed into place, as the 2-D generator does.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.regions import Region
from datasets.splits import assign_splits
from datasets.synth import CLEAN
from datasets.synth.build import CLASS_TAGS, check_out_and_classes, staged_project
from datasets.synth.ct import (
    CT_CLASSES,
    CT_THREATS,
    DEFAULT_SHAPE,
    GOODS,
    HU_OFFSET,
    CTScene,
    place,
    reconstruct,
    rotation,
    voxel_cm,
)
from datasets.synth.ct_objects import BAG_HALF, CLUTTER, LABELLED, bag_frame
from datasets.taxonomy import Taxonomy, default_taxonomy_path

KIND = "ct-baggage"


@dataclass
class CTBag:
    volume: np.ndarray                 # (Z, Y, X, C) uint16 CT numbers (C = 1, or 2: high, low)
    regions: list[tuple[str, np.ndarray, tuple[int, int, int]]]  # (class, voxels, (x, y, z))
    tags: list[str]
    manifest: list[str]
    truth: dict


def make_bag(seed: int, index: int, shape: tuple[int, int, int] = DEFAULT_SHAPE, classes=CT_CLASSES,
             dual: bool = False, streaks: bool = False, undeclared: float = 0.2, clean: float = CLEAN) -> CTBag:
    """One bag; the same (seed, index) gives the same volume, byte for byte."""
    rng = np.random.default_rng([seed, index, 3])
    Z, Y, X = shape
    s = 1.0 / voxel_cm(shape)
    scene = CTScene(shape, _empty_bag(shape).copy(), metal=np.zeros(shape, bool) if streaks else None)
    owned = _outside(shape).copy()  # a labelled thing lies wholly inside the bag
    centre = np.array([X / 2, Y / 2, Z / 2], np.float32)
    inside = np.array([X * 0.42, Y * 0.40, Z * 0.36], np.float32)
    names, weights = zip(*((n, w) for n, (_, w) in CLUTTER.items()))
    p = np.array(weights, float) / sum(weights)
    for _ in range(int(rng.integers(12, 26))):
        name = str(rng.choice(names, p=p))
        th = CLUTTER[name][0](rng, s)
        if place(scene, th, centre + rng.uniform(-1, 1, 3).astype(np.float32) * inside, rotation(rng, True), owned) \
                and name in GOODS:
            scene.goods.add(GOODS[name])
    outside = _outside(shape)  # clutter stays in the bag: what reached past the shell is cut off
    scene.mu[:, outside] = _empty_bag(shape)[:, outside]
    if scene.metal is not None:
        scene.metal[outside] = False
    threats = [c for c in classes if c in CT_THREATS]
    others = [c for c in classes if c not in CT_THREATS]
    want = []
    if threats and rng.random() >= clean:
        want += list(rng.choice(threats, size=int(rng.integers(1, 3)), replace=len(threats) < 2))
    if others:
        want += [str(c) for c in rng.choice(others, size=int(rng.integers(0, 3)))]
    for name in want:
        for _ in range(20):  # a free spot inside the bag
            th = LABELLED[str(name)](rng, s)
            at = centre + rng.uniform(-1, 1, 3).astype(np.float32) * inside * 0.8
            if place(scene, th, at, rotation(rng, flat=th.flat or rng.random() < 0.7), owned):
                if name in GOODS:
                    scene.goods.add(GOODS[name])
                break
    mu = scene.mu if dual else scene.mu[:1]
    volume = reconstruct(mu, rng, scene.metal)
    present = sorted({c for c, _, _ in scene.masks})
    contraband = [c for c in present if c in CT_THREATS]
    goods = sorted(scene.goods)
    dropped = [str(rng.choice(goods))] if goods and rng.random() < undeclared else []
    tags = sorted({t for c in contraband for t in CLASS_TAGS[c]} | ({"contraband"} if contraband else set())
                  | ({"undeclared_goods"} if dropped else set()) | (set() if contraband else {"clear"}))
    truth = {"kind": KIND, "objects": [c for c, _, _ in scene.masks], "contraband": contraband, "goods": goods,
             "undeclared_goods": dropped}
    return CTBag(volume, scene.masks, tags, [g for g in goods if g not in dropped], truth)


@functools.lru_cache(maxsize=4)
def _empty_bag(shape: tuple[int, int, int]) -> np.ndarray:
    """μ of the shell and frame alone: the same for every bag of a size, so it is built once."""
    Z, Y, X = shape
    scene = CTScene(shape, np.zeros((2, Z, Y, X), np.float32))
    for th in bag_frame(shape, 1.0 / voxel_cm(shape)):
        place(scene, th, np.array([X / 2, Y / 2, Z / 2], np.float32), np.eye(3, dtype=np.float32),
              np.zeros(shape, bool))
    scene.mu.setflags(write=False)
    return scene.mu


@functools.lru_cache(maxsize=4)
def _outside(shape: tuple[int, int, int]) -> np.ndarray:
    """Voxels outside the bag's inner wall (``ct_objects.bag_frame``, ``BAG_HALF``)."""
    Z, Y, X = shape
    t = max(1.0, 0.5 / voxel_cm(shape))
    z, y, x = np.ogrid[:Z, :Y, :X]
    hx, hy, hz = X * BAG_HALF[0], Y * BAG_HALF[1], Z * BAG_HALF[2]
    inside = (np.abs(x + 0.5 - X / 2) < hx - t) & (np.abs(y + 0.5 - Y / 2) < hy - t) & (np.abs(z + 0.5 - Z / 2) < hz - t)
    out = ~inside
    out.setflags(write=False)
    return out


def write_nifti(path: Path, volume: np.ndarray) -> None:
    """(Z, Y, X, C) uint16 CT numbers as NIfTI (x, y, z[, c]) with its voxel size and the CT rescale."""
    import nibabel as nib

    a = volume[..., 0] if volume.shape[-1] == 1 else volume
    data = np.ascontiguousarray(np.swapaxes(a, 0, 2))  # (Z, Y, X[, C]) -> (X, Y, Z[, C])
    mm = voxel_cm(volume.shape[:3]) * 10
    img = nib.Nifti1Image(data, np.diag([mm, mm, mm, 1.0]))
    img.header.set_data_dtype(np.uint16)
    img.header.set_slope_inter(1.0, -float(HU_OFFSET))
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = b"xwb synthetic CT bag (HU + 1024)"
    nib.save(img, str(path))


def synth_ct_project(out: str | Path, count: int, seed: int = 0, shape: tuple[int, int, int] | None = None,
                     classes: list[str] | None = None, dual: bool = False, streaks: bool = False,
                     undeclared: float = 0.2, clean: float = CLEAN, unlabelled: int = 0,
                     taxonomy: Taxonomy | None = None, progress: Callable[[int, int], None] | None = None) -> Path:
    out = Path(out)
    if count <= 0:
        raise XwbError(f"--count must be at least 1, got {count}")
    given = tuple(shape or DEFAULT_SHAPE)
    if len(given) != 3 or min(given) < 32 or max(given) > 512:
        raise XwbError(f"--size of a CT bag is ZxYxX voxels, each 32 to 512; got {'x'.join(map(str, given))}")
    size: tuple[int, int, int] = (int(given[0]), int(given[1]), int(given[2]))
    tax = taxonomy or Taxonomy.load(default_taxonomy_path())
    classes = check_out_and_classes(out, classes, CT_CLASSES, tax, "the CT generator")
    with staged_project(out, tax) as p:
        tmp = p.folder
        (tmp / "volumes").mkdir()
        truth = {}
        for i in range(count):
            bag = make_bag(seed, i, size, classes, dual, streaks, undeclared, clean)
            rel = f"volumes/{KIND}_{seed}_{i:05d}.nii"
            write_nifti(tmp / rel, bag.volume)
            rec = p.make_record(tmp / rel, rel)
            labelled = i < count - unlabelled
            rec.status = "done" if labelled else "new"
            rec.tags, rec.manifest = (bag.tags if labelled else []), bag.manifest
            iid = p.store.add_image(rec)
            if labelled:
                p.store.add_regions(iid, [Region(tax.by_name(n).id, voxels=v, mask_x=x, mask_y=y, mask_z=z,
                                                 source="synthetic", author="xwb synth")
                                          for n, v, (x, y, z) in bag.regions])
            truth[rel] = {**bag.truth, "tags": bag.tags, "labelled": labelled}
            if progress:
                progress(i + 1, count)
        assign_splits(p)
        (tmp / "synth.json").write_text(json.dumps(
            {"seed": seed, "kind": KIND, "size": list(size), "voxel_mm": voxel_cm(size) * 10, "dual_energy": dual,
             "metal_streaks": streaks, "clean": clean, "undeclared": undeclared, "scans": truth}, indent=1))
    return out
