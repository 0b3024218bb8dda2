"""Tensors from a project: crops of native 16-bit counts, augmented, turned into log-transmission.

Everything the workers need is plain data (paths, region masks, metadata),
so datasets pickle cheaply into DataLoader workers and never hold the SQLite
connection. Augmentation happens on uint16 counts (albumentations handles
uint16 correctly, float32 it would clip to [0, 1]); TIP adds threats in
attenuation space; only then are counts turned into model features.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import albumentations as A
import numpy as np
import torch
from torch.utils.data import Dataset

from datasets.calibration import OPEN_BEAM, rescale_of, scanner_facts
from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import IGNORE_LABEL, Region, paint
from datasets.scanio import read_scan
from datasets.synth.tip import project_threat
from training.nets import model_code
from training.nets.inputs import MATERIALS, InputKind, uniform
from training.recipes.config import TrainConfig
from training.tasks.base import Task

log = logging.getLogger(__name__)


@dataclass
class ScanItem:
    """One scan as the loader sees it: where it is, its scanner facts and its labels."""

    image_id: int
    path: str
    width: int
    height: int
    channels: int
    i0: list[float]
    dark: float
    layout: str = "dual"
    bit_depth: int = 16
    i0_from_file: bool = True  # False: the file says nothing, I0 is the full scale of its bit depth
    regions: list[tuple[int, Region]] = field(default_factory=list)  # (model class index 1..K, region)
    tags: np.ndarray | None = None  # (K,) float 0/1 for classification
    axes: str = ""  # the record's axes when the user gave them at add (else as the reader reads the file)
    depth: int = 1  # slices of a CT volume; 1 for a 2-D scan
    rescale: tuple[float, float] | None = None  # a volume's (slope, intercept) from stored values to HU

    @property
    def volume(self) -> bool:
        return self.depth > 1

    def counts(self) -> np.ndarray:
        """(H, W, C) counts at native depth (memory-mapped when the file allows), read with the record's axes;
        a volume's (Z, Y, X, C) stored values."""
        scan = read_scan(self.path, axes=self.axes or None)
        return scan.voxels() if self.volume else scan.channels_last()

    def label_volume(self, at: tuple[int, int, int] = (0, 0, 0), size: tuple[int, int, int] | None = None
                     ) -> np.ndarray:
        """(d, h, w) uint8 model class indices of the block of a volume at ``at`` = (z, y, x) (default: the
        whole volume); smaller regions painted over larger ones, "don't care" ones last."""
        from datasets.voxel_edit import paint_volume

        out = np.zeros(size or (self.depth, self.height, self.width), np.uint8)
        for k, r in sorted(self.regions, key=lambda t: (t[0] == IGNORE_LABEL, -t[1].area())):
            paint_volume(out, r, k, at)
        return out

    def label_map(self, y0: int = 0, x0: int = 0, h: int | None = None, w: int | None = None) -> np.ndarray:
        """(h, w) uint8 model class indices of the window at (x0, y0) (default: the whole scan);
        smaller regions are painted over larger ones."""
        out = np.zeros((self.height if h is None else h, self.width if w is None else w), np.uint8)
        for k, r in sorted(self.regions, key=lambda t: (t[0] == IGNORE_LABEL, -t[1].area())):
            paint(out, r, k, x0, y0)  # "don't care" areas (IGNORE_LABEL) last, over everything
        return out


def class_names(project: Project, cfg: TrainConfig) -> list[str]:
    """The model's classes: the config's subset, else every taxonomy class (seg) or tag (cls)."""
    task = cfg.task_type
    pool = task.pool(project.taxonomy)
    if cfg.model.classes:
        bad = [c for c in cfg.model.classes if c not in pool]
        if bad:
            raise XwbError(f"model.classes: {', '.join(bad)} not in the project's {task.labels} ({', '.join(pool)})")
        return list(cfg.model.classes)
    return pool


def load_items(project: Project, split: str, names: list[str], kind: Task) -> list[ScanItem]:
    """Labelled scans of a split (status done/reviewed or any accepted region) with their labels, as
    ``kind`` (the task of the recipe or of the model) reads them."""
    items = []
    other = 0
    for rec in project.store.images(split=split):
        if rec.is_volume != kind.volumes:  # a 2-D task's scans, or a volume task's volumes
            other += 1
            continue
        got = kind.load_labels(project, rec, names)
        if got is None:
            continue  # not labelled yet
        labels, tags = got
        try:
            info_meta = project.read_scan(rec).meta
        except XwbError as e:
            raise XwbError(f"{split} scan {rec.path}: {e}") from None
        i0: list[float]
        if rec.is_volume:
            i0, dark, rescale = [], 0.0, rescale_of(info_meta)
        else:
            (i0, dark), rescale = scanner_facts(info_meta, rec.channels, rec.bit_depth), None
        items.append(ScanItem(rec.id, str(project.image_path(rec)), rec.width, rec.height, rec.channels,
                              i0, dark, rec.layout, rec.bit_depth, "i0" in (info_meta or {}), labels, tags,
                              rec.axes, rec.depth if rec.is_volume else 1, rescale))
    if other:
        what = ("2-D scan", "trains on CT volumes") if kind.volumes else ("volume", "trains on 2-D scans")
        log.warning("%s: %d %s %s%s left out: task %s %s", project.name, other, split, what[0], "s" * (other > 1),
                    kind.name, what[1])
    return items


def input_kind(items: list[ScanItem]) -> InputKind:
    """The one kind of scan (layout, bit depth) these items are; a mix is refused naming an example of each."""
    kinds: dict[InputKind, str] = {}
    for it in items:
        kinds.setdefault(InputKind(it.layout, it.bit_depth, it.volume), Path(it.path).name)
    return uniform(kinds)


def feature_stats(items: list[ScanItem], channels: list[str], max_scans: int = 16,
                  pre: dict | None = None) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of the features over (a sample of) training scans."""
    pre = pre or {}
    step = max(1, len(items) // max_scans)
    sums, sq, n = np.zeros(len(channels)), np.zeros(len(channels)), 0
    for it in items[::step][:max_scans]:
        c = it.counts()
        side = 64 if it.volume else 512  # a sample of about 512² pixels or 64³ voxels per scan
        sub = c[tuple(slice(None, None, max(1, n // side)) for n in c.shape[:-1])]
        f = model_code.features(np.moveaxis(sub, -1, 0), {**pre, "channels": channels}, it.i0, it.dark,
                                it.rescale)
        f = f.reshape(len(channels), -1).astype(np.float64)
        sums += f.sum(1)
        sq += (f ** 2).sum(1)
        n += f.shape[1]
    mean = sums / max(n, 1)
    std = np.sqrt(np.maximum(sq / max(n, 1) - mean ** 2, 1e-6))
    # a rare material's share has a tiny spread: one voxel of it must not read as a hundred sigmas
    std = np.array([max(s, 0.1) if c in MATERIALS else s for s, c in zip(std, channels)])
    return mean.tolist(), std.tolist()


class QuantumNoise(A.ImageOnlyTransform):
    """Counts-dependent noise (sigma ~ sqrt(I)), as a detector with fewer photons would give."""

    def __init__(self, scale=(0.5, 2.0), p: float = 0.5):
        super().__init__(p=p)
        self.scale = scale

    def apply(self, img, **params):
        s = np.float32(self.random_generator.uniform(*self.scale))
        f = img.astype(np.float32)
        noisy = f + self.random_generator.standard_normal(f.shape, dtype=np.float32) * np.sqrt(np.maximum(f, 1.0)) * s
        return np.clip(np.rint(noisy), 0, np.iinfo(img.dtype).max if img.dtype.kind in "ui" else None).astype(img.dtype)

    def get_transform_init_args_names(self):
        return ("scale",)


class DetectorGain(A.ImageOnlyTransform):
    """Scale counts by a gain (one for all channels, or one per channel), clipped to the dtype's range."""

    def __init__(self, limit: float = 0.15, per_channel: bool = False, p: float = 0.5):
        super().__init__(p=p)
        self.limit, self.per_channel = limit, per_channel

    def apply(self, img, **params):
        n = img.shape[2] if self.per_channel and img.ndim == 3 else 1
        g = self.random_generator.uniform(1 - self.limit, 1 + self.limit, size=n).astype(np.float32)
        top = np.iinfo(img.dtype).max if img.dtype.kind in "ui" else None
        return np.clip(np.rint(img.astype(np.float32) * g), 0, top).astype(img.dtype)

    def get_transform_init_args_names(self):
        return ("limit", "per_channel")


def build_augment(cfg: TrainConfig, open_beam: float = OPEN_BEAM) -> A.Compose:
    """``open_beam``: what the border of a shrunk crop is filled with (white: nothing in the beam)."""
    a = cfg.augment
    ops = [A.HorizontalFlip(p=a.hflip), A.VerticalFlip(p=a.vflip), A.RandomRotate90(p=a.rot90)]
    if a.scale:
        ops.append(A.Affine(scale=(0.8, 1.25), fill=open_beam, fill_mask=0, p=a.scale))
    if a.gain:
        ops.append(DetectorGain(a.gain_limit, per_channel=False, p=a.gain))
    if a.channel_gain:
        ops.append(DetectorGain(a.gain_limit, per_channel=True, p=a.channel_gain))
    if a.noise:
        ops.append(QuantumNoise(p=a.noise))
    return A.Compose(ops, seed=None)


@dataclass
class Threat:
    counts: np.ndarray  # (h, w, C) crop around the threat
    mask: np.ndarray    # (h, w) bool
    cls: int
    meta: dict


def threat_bank(items: list[ScanItem], limit: int = 200, seed: int = 0) -> list[Threat]:
    """Crops of accepted training regions, the source of TIP augmentation."""
    rng = np.random.default_rng(seed)
    pool = [(it, k, r) for it in items for k, r in it.regions if k != IGNORE_LABEL]
    rng.shuffle(pool)
    bank = []
    for it, k, r in pool[:limit]:
        m, x0, y0 = r.crop_mask(it.width, it.height)
        if m.size == 0 or not m.any():
            continue
        c = it.counts()
        xs0, ys0 = max(0, x0 - 4), max(0, y0 - 4)
        xs1, ys1 = min(it.width, x0 + m.shape[1] + 4), min(it.height, y0 + m.shape[0] + 4)
        full = np.zeros((ys1 - ys0, xs1 - xs0), bool)
        full[y0 - ys0:y0 - ys0 + m.shape[0], x0 - xs0:x0 - xs0 + m.shape[1]] = m[:ys1 - y0, :xs1 - x0]
        bank.append(Threat(np.array(c[ys0:ys1, xs0:xs1]), full, k, {"i0": it.i0, "dark": it.dark}))
    return bank


def crop_counts(src: np.ndarray, y: int, x: int, h: int, w: int) -> np.ndarray:
    """The (h, w, C) window of ``src`` at (x, y), which may overhang the scan: outside is open beam."""
    out = np.full((h, w, src.shape[2]), np.iinfo(src.dtype).max if src.dtype.kind in "ui" else OPEN_BEAM, src.dtype)
    ys, xs = max(0, y), max(0, x)
    ye, xe = min(src.shape[0], y + h), min(src.shape[1], x + w)
    if ye > ys and xe > xs:
        out[ys - y:ye - y, xs - x:xe - x] = src[ys:ye, xs:xe]
    return out


def objects_by_class(items: list[ScanItem]) -> dict[int, list[tuple[int, int]]]:
    """(item, region) indices per model class, "don't care" areas left out: where crops are centred."""
    out: dict[int, list[tuple[int, int]]] = {}
    for i, it in enumerate(items):
        for j, (k, _) in enumerate(it.regions):
            if k != IGNORE_LABEL:
                out.setdefault(k, []).append((i, j))
    return out


class _Crops(Dataset):
    """Crops of ``data.tile`` px, ``crops_per_epoch`` a epoch shared over the ranks, deterministic per
    (seed, epoch, rank, index); the last 64 scans' counts kept in memory."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1):
        self.items, self.cfg, self.pre = items, cfg, pre
        self.rank, self.world, self.epoch = rank, world, 0
        self.tile = cfg.data.tile
        self.length = max(1, math.ceil(cfg.data.crops_per_epoch / world))
        self.aug = build_augment(cfg, pre.get("max_value", OPEN_BEAM))
        self._cache: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def _counts(self, i: int) -> np.ndarray:
        c = self._cache.get(i)
        if c is None:
            c = self.items[i].counts()
            if len(self._cache) < 64:
                self._cache[i] = c
        return c

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.cfg.runtime.seed, self.epoch, self.rank, index])


class SegCrops(_Crops):
    """Random training crops, positive-biased or class-balanced, deterministic per (seed, epoch, index)."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1,
                 bank: list[Threat] | None = None):
        super().__init__(items, cfg, pre, rank, world)
        self.bank = bank or []
        self.by_class = objects_by_class(self.items)
        self.positives = [p for v in self.by_class.values() for p in v]

    def _pick(self, rng: np.random.Generator) -> tuple[int, int, int]:
        """(item, y0, x0) of the crop's top-left corner (may be negative/overhanging: padded later)."""
        t, s = self.tile, self.cfg.data.sampling
        if s != "uniform" and self.by_class and rng.random() < self.cfg.data.positive_fraction:
            if s == "balanced":
                k = list(self.by_class)[rng.integers(len(self.by_class))]
                i, j = self.by_class[k][rng.integers(len(self.by_class[k]))]
            else:
                i, j = self.positives[rng.integers(len(self.positives))]
            it = self.items[i]
            x0, y0, x1, y1 = it.regions[j][1].pixel_box(it.width, it.height)
            cy = rng.integers(y0, max(y0 + 1, y1))
            cx = rng.integers(x0, max(x0 + 1, x1))
            jitter = rng.integers(-t // 3, t // 3 + 1, size=2)
            y, x = cy - t // 2 + jitter[0], cx - t // 2 + jitter[1]
        else:
            i = int(rng.integers(len(self.items)))
            it = self.items[i]
            y = int(rng.integers(0, max(1, it.height - t + 1)))
            x = int(rng.integers(0, max(1, it.width - t + 1)))
        it = self.items[i]
        y = int(np.clip(y, min(0, it.height - t), max(0, it.height - t)))
        x = int(np.clip(x, min(0, it.width - t), max(0, it.width - t)))
        return i, y, x

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray, ScanItem]:
        """Augmented (counts (t, t, C) uint16, labels (t, t) uint8) before feature conversion."""
        rng = self._rng(index)
        i, y, x = self._pick(rng)
        it, t = self.items[i], self.tile
        counts = crop_counts(self._counts(i), y, x, t, t)
        labels = it.label_map(y0=y, x0=x, h=t, w=t)
        if self.bank and rng.random() < self.cfg.augment.tip:
            th = self.bank[rng.integers(len(self.bank))]
            if th.counts.shape[2] == counts.shape[2]:
                counts, m = project_threat(th.counts, th.mask, counts, float(rng.uniform(0, t)),
                                           float(rng.uniform(0, t)), scale=float(rng.uniform(0.8, 1.2)),
                                           angle_deg=float(rng.uniform(0, 360)), density=float(rng.uniform(0.8, 1.2)),
                                           src_meta=th.meta, dst_meta={"i0": it.i0, "dark": it.dark})
                labels[m] = th.cls
        self.aug.set_random_seed(int(rng.integers(1 << 31)))
        out = self.aug(image=counts, mask=labels)
        return out["image"], out["mask"], it

    def __getitem__(self, index: int):
        counts, labels, it = self.sample(index)
        f = model_code.features(np.moveaxis(counts, -1, 0), self.pre, it.i0, it.dark)
        x = torch.from_numpy(np.ascontiguousarray(model_code.normalise(f, self.pre)))
        return x, torch.from_numpy(np.ascontiguousarray(labels)).long()


class ClickCrops(_Crops):
    """Click-to-segment (task interactive): crops around one object each, its mask as the target (other
    objects are background, "don't care" areas stay IGNORE_LABEL) and simulated clicks as two more input
    channels."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1):
        super().__init__(items, cfg, pre, rank, world)
        self.objects = [(i, j) for i, it in enumerate(items) for j, (k, _) in enumerate(it.regions)
                        if k != IGNORE_LABEL]

    def sample(self, index: int):
        """(augmented counts (t, t, C), target (t, t) uint8 0/1/IGNORE_LABEL, clicks, item)."""
        from datasets.clicks import training_clicks

        rng = self._rng(index)
        i, j = self.objects[rng.integers(len(self.objects))]
        it, t = self.items[i], self.tile
        r = it.regions[j][1]
        x0, y0, x1, y1 = r.pixel_box(it.width, it.height)
        # an object larger than half a crop: a random part of it; a smaller one: near the middle
        cx = int(rng.integers(x0, x1)) if x1 - x0 > t // 2 else (x0 + x1) // 2 + int(rng.integers(-t // 6, t // 6 + 1))
        cy = int(rng.integers(y0, y1)) if y1 - y0 > t // 2 else (y0 + y1) // 2 + int(rng.integers(-t // 6, t // 6 + 1))
        x, y = cx - t // 2, cy - t // 2
        counts = crop_counts(self._counts(i), y, x, t, t)
        target = np.where(it.label_map(y0=y, x0=x, h=t, w=t) == IGNORE_LABEL, IGNORE_LABEL, 0).astype(np.uint8)
        paint(target, r, 1, x, y)
        self.aug.set_random_seed(int(rng.integers(1 << 31)))
        out = self.aug(image=counts, mask=target)
        counts, target = out["image"], out["mask"]
        return counts, target, training_clicks(target == 1, rng), it

    def __getitem__(self, index: int):
        counts, target, clicks, it = self.sample(index)
        f = model_code.features(np.moveaxis(counts, -1, 0), self.pre, it.i0, it.dark)
        x = np.concatenate([model_code.normalise(f, self.pre), model_code.click_maps(clicks, *target.shape)])
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(target)).long()


class ClsImages(Dataset):
    """Whole scans, letterboxed to ``image_size``, with their tag vectors; this rank's share of them."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1,
                 train: bool = True):
        self.items = items[rank::world]
        self.cfg, self.pre, self.train, self.epoch, self.rank = cfg, pre, train, 0, rank
        self.aug = build_augment(cfg, pre.get("max_value", OPEN_BEAM)) if train else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        it = self.items[index]
        counts = it.counts()
        if self.aug is not None:
            self.aug.set_random_seed(int(np.random.default_rng([self.cfg.runtime.seed, self.epoch, self.rank, index])
                                         .integers(1 << 31)))
            counts = self.aug(image=np.ascontiguousarray(counts))["image"]
        f = model_code.features(np.moveaxis(counts, -1, 0), self.pre, it.i0, it.dark)
        x = model_code.normalise(model_code.letterbox(f, self.cfg.data.image_size), self.pre)
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(it.tags)

