"""Tensors from CT volumes (tasks cls3d and seg3d): whole volumes resized to a cube, or cubes cut at their own
resolution, with 3-D augmentation. Like ``data``, everything the workers need is plain data."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from training.loop.data import ScanItem, _Crops, objects_by_class
from training.nets import model_code
from training.recipes.config import TrainConfig


class ClsVolumes(Dataset):
    """Whole CT volumes with their tag vectors (task cls3d): each resized once to a cube of ``data.volume_size``
    voxels (``model_code.letterbox3d``) and kept (a 48³ volume is 0.4 MB a channel), then changed per epoch
    as a bag may lie in the tunnel: flips along x (``augment.hflip``), y and z (``vflip``), quarter turns about
    the belt axis z (``rot90``), a density gain (``gain``, ``gain_limit``) and reconstruction-like noise
    (``noise``). Deterministic per (seed, epoch, rank, index)."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1,
                 train: bool = True):
        self.items = items[rank::world]
        self.cfg, self.pre, self.train, self.epoch, self.rank = cfg, pre, train, 0, rank
        self._cache: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def cube(self, index: int) -> np.ndarray:
        """(C_in, S, S, S) un-normalised features of volume ``index``, before augmentation."""
        v = self._cache.get(index)
        if v is None:
            it = self.items[index]
            f = model_code.features(np.moveaxis(it.counts(), -1, 0), self.pre, rescale=it.rescale)
            v = self._cache[index] = model_code.letterbox3d(f, self.cfg.data.volume_size, self.pre["channels"])
        return v

    def __getitem__(self, index: int):
        v = self.cube(index)
        if self.train:
            a = self.cfg.augment
            rng = np.random.default_rng([self.cfg.runtime.seed, self.epoch, self.rank, index])
            for axis, p in ((3, a.hflip), (2, a.vflip), (1, a.vflip)):
                if rng.random() < p:
                    v = np.flip(v, axis)
            if rng.random() < a.rot90:
                v = np.rot90(v, int(rng.integers(1, 4)), axes=(2, 3))
            if rng.random() < a.gain:
                v = v * np.float32(rng.uniform(1 - a.gain_limit, 1 + a.gain_limit))
            if rng.random() < a.noise:
                v = v + rng.standard_normal(v.shape, dtype=np.float32) * np.float32(rng.uniform(0.01, 0.05))
        x = model_code.normalise(np.ascontiguousarray(v, np.float32), self.pre)
        return torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(self.items[index].tags)


class SegVolumeCrops(_Crops):
    """Cubes of ``data.tile`` voxels cut from CT volumes at their own resolution (task seg3d) with their label
    cubes: centred on a labelled object (a class first, then one of its regions: rare classes as often as
    common ones) with probability ``data.positive_fraction``, else anywhere; outside the volume is air.
    Flips along every axis, quarter turns about z, density gain and noise as for whole volumes.
    ``crops_per_epoch`` a epoch over the ranks, deterministic per (seed, epoch, rank, index);
    the volumes are memory maps, so a crop reads only its own pages."""

    def __init__(self, items: list[ScanItem], cfg: TrainConfig, pre: dict, rank: int = 0, world: int = 1):
        super().__init__(items, cfg, pre, rank, world)
        self.by_class = objects_by_class(items)

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self._rng(index)
        t = self.tile
        if self.by_class and rng.random() < self.cfg.data.positive_fraction:
            k = list(self.by_class)[rng.integers(len(self.by_class))]
            i, j = self.by_class[k][rng.integers(len(self.by_class[k]))]
            x0, y0, z0, x1, y1, z1 = self.items[i].regions[j][1].bbox3d()
            centre = [rng.uniform(z0, z1), rng.uniform(y0, y1), rng.uniform(x0, x1)]
            at = [int(c - t / 2 + rng.integers(-t // 4, t // 4 + 1)) for c in centre]
        else:
            i = int(rng.integers(len(self.items)))
            it = self.items[i]
            at = [int(rng.integers(0, max(1, n - t + 1))) for n in (it.depth, it.height, it.width)]
        it = self.items[i]
        vol = self._counts(i)
        lo = [max(0, a) for a in at]
        hi = [min(n, a + t) for a, n in zip(at, (it.depth, it.height, it.width))]
        raw = np.asarray(vol[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]])
        f = model_code.features(np.moveaxis(raw, -1, 0), self.pre, rescale=it.rescale)
        x = np.zeros((f.shape[0], t, t, t), np.float32)  # air outside the volume
        x[:, lo[0] - at[0]:hi[0] - at[0], lo[1] - at[1]:hi[1] - at[1], lo[2] - at[2]:hi[2] - at[2]] = f
        y = it.label_volume((at[0], at[1], at[2]), (t, t, t))
        a = self.cfg.augment
        for axis, p in ((2, a.hflip), (1, a.vflip), (0, a.vflip)):
            if rng.random() < p:
                x, y = np.flip(x, axis + 1), np.flip(y, axis)
        if rng.random() < a.rot90:
            turns = int(rng.integers(1, 4))
            x, y = np.rot90(x, turns, axes=(2, 3)), np.rot90(y, turns, axes=(1, 2))
        if rng.random() < a.gain:
            x = x * np.float32(rng.uniform(1 - a.gain_limit, 1 + a.gain_limit))
        if rng.random() < a.noise:
            x = x + rng.standard_normal(x.shape, dtype=np.float32) * np.float32(rng.uniform(0.01, 0.05))
        return np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y)

    def __getitem__(self, index: int):
        x, y = self.sample(index)
        return torch.from_numpy(np.ascontiguousarray(model_code.normalise(x, self.pre), np.float32)), \
            torch.from_numpy(y).long()
