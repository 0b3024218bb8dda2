"""Losses by name: ``loss.name`` in a recipe. Each entry says which tasks it serves and builds itself from
the recipe; a lab's own loss is ``path/to/file.py:fn`` (see ``training.recipes.custom``), not an entry here.

Pixels of "don't care" areas (labelme ``__ignore__``, COCO iscrowd) carry IGNORE_LABEL: no loss there.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from datasets.errors import XwbError
from datasets.regions import IGNORE_LABEL


@dataclass(frozen=True)
class LossEntry:
    name: str
    tasks: tuple[str, ...]
    help: str
    build: Callable  # (task name, recipe) -> callable(logits, target) -> scalar


_LOSSES: dict[str, LossEntry] = {}


def register(name: str, tasks: tuple[str, ...], help: str):
    """Decorator: ``@register("tversky", ("seg",), "...")`` over ``def build(task, cfg) -> loss``."""
    def wrap(build: Callable) -> Callable:
        _LOSSES[name] = LossEntry(name, tuple(tasks), help, build)
        return build
    return wrap


def names(task: str | None = None) -> list[str]:
    return [n for n, e in _LOSSES.items() if task is None or task in e.tasks]


def entry(name: str) -> LossEntry | None:
    return _LOSSES.get(name)


def check(name: str, task: str) -> tuple[str, tuple[str, ...]] | None:
    """None if ``name`` is a loss for ``task``; else (message, the recipe keys to blame)."""
    e = _LOSSES.get(name)
    if e is None:
        near = difflib.get_close_matches(name, names(), n=1)
        return (f"loss.name: {name!r} is not one of {', '.join(names())} (or your own, path/to/file.py:fn)"
                f"{'; did you mean ' + repr(near[0]) + '?' if near else ''}"), ("loss.name",)
    if task not in e.tasks:
        return (f"loss.name: {name} is for task {', '.join(e.tasks)}; task {task} uses {either(names(task))}",
                ("loss.name", "task"))
    return None


def either(xs: list[str]) -> str:
    return xs[0] if len(xs) == 1 else f"{', '.join(xs[:-1])} or {xs[-1]}"


def make(name: str, task: str, cfg):
    bad = check(name, task)
    if bad:
        raise XwbError(bad[0])
    return _LOSSES[name].build(task, cfg)


def _seg_parts(cfg):
    import segmentation_models_pytorch as smp
    import torch

    return (smp.losses.DiceLoss(mode="multiclass", ignore_index=IGNORE_LABEL),
            torch.nn.CrossEntropyLoss(ignore_index=IGNORE_LABEL),
            smp.losses.FocalLoss(mode="multiclass", ignore_index=IGNORE_LABEL))


@register("dice_ce", ("seg", "seg3d"), "Dice + cross-entropy (dice_weight scales the Dice term)")
def _dice_ce(task, cfg):
    dice, ce, _ = _seg_parts(cfg)
    w = cfg.loss.dice_weight
    return lambda p, y: w * dice(p, y) + ce(p, y)


@register("dice_focal", ("seg", "seg3d"), "Dice + focal: for small objects among much background")
def _dice_focal(task, cfg):
    dice, _, focal = _seg_parts(cfg)
    w = cfg.loss.dice_weight
    return lambda p, y: w * dice(p, y) + focal(p, y)


@register("ce", ("seg", "seg3d"), "cross-entropy per pixel")
def _ce(task, cfg):
    return _seg_parts(cfg)[1]


@register("focal", ("seg", "seg3d", "cls", "cls3d"), "focal loss: easy pixels or tags weigh less")
def _focal(task, cfg):
    if task in ("cls", "cls3d"):  # the one loss serving two tasks: multi-label on tags, multi-class on pixels
        import segmentation_models_pytorch as smp

        return smp.losses.FocalLoss(mode="multilabel")
    return _seg_parts(cfg)[2]


@register("dice", ("seg", "seg3d"), "Dice alone")
def _dice(task, cfg):
    return _seg_parts(cfg)[0]


@register("bce", ("cls", "cls3d"), "binary cross-entropy per tag")
def _bce(task, cfg):
    import torch

    return torch.nn.BCEWithLogitsLoss()


@register("bce_dice", ("interactive",), "binary cross-entropy + Dice of the clicked object (dice_weight scales Dice)")
def _bce_dice(task, cfg):
    import torch
    import torch.nn.functional as F

    w = cfg.loss.dice_weight

    def loss(logits, target):
        valid = (target != IGNORE_LABEL).unsqueeze(1).float()
        y = (target == 1).unsqueeze(1).float()
        bce = F.binary_cross_entropy_with_logits(logits, y, weight=valid, reduction="sum") / valid.sum().clamp(min=1)
        p = torch.sigmoid(logits) * valid
        dice = 1 - (2 * (p * y).sum((1, 2, 3)) + 1) / (p.sum((1, 2, 3)) + (y * valid).sum((1, 2, 3)) + 1)
        return bce + w * dice.mean()
    return loss
