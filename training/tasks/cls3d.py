"""Volume tags: multi-label classification of whole CT volumes by a 3-D network; output (K,) probabilities.

The tags, their metrics (AP, AUROC, Pd at PFA), operating points, proposals and reports are those of 2-D
tags (``cls``); what differs is the input: stored CT values of a volume, turned into density relative to
water and resized by one factor to a cube of ``data.volume_size`` voxels (``model_code.letterbox3d``), and
the networks: MONAI's 3-D ResNet/DenseNet/SEResNet or torchvision's video ResNets.
"""
from __future__ import annotations

from datasets.errors import XwbError
from training.tasks.cls import Tags

CT_GAIN_LIMIT = 0.02  # CT numbers are calibrated: a scanner drifts by a percent or two, not by 15 %


def fit_ct_augment(cfg, kind, task: str) -> str:
    """What a recipe cannot do on CT volumes, switched off with the note to show: a large density gain (the
    2-D default, 15 %) moves a drug brick (+200 HU) onto food (0 HU) and erases what tells them apart."""
    if kind.layout not in ("gray", "dual"):
        raise XwbError(f"task {task} trains on single- or dual-energy CT volumes; the project's are {kind}")
    notes = []
    if cfg.augment.gain and cfg.augment.gain_limit > CT_GAIN_LIMIT:
        notes.append(f"augment.gain_limit {cfg.augment.gain_limit:g} lowered to {CT_GAIN_LIMIT:g} (CT numbers are "
                     "calibrated: a larger gain moves one material onto another)")
        cfg.augment.gain_limit = CT_GAIN_LIMIT
    if cfg.augment.tip:
        notes.append(f"augment.tip {cfg.augment.tip:g} set to 0 (threat image projection is for 2-D scans)")
        cfg.augment.tip = 0.0
    return "note: " + "; ".join(notes) if notes else ""


def check_volume_net(task: str, nets: dict[str, list[str]], what: str, arch: str, encoder: str) -> None:
    """XwbError naming the key for a 3-D network ``nets`` (library -> names) does not hold."""
    from training.nets import models

    if arch not in nets:
        raise XwbError(f"model.arch: task {task} uses {' or '.join(map(repr, nets))} (3-D networks), got {arch!r}")
    if encoder not in nets[arch]:
        raise models.unknown(f"{arch} {what}", encoder, nets[arch], "model.encoder", full=True)


class VolumeTags(Tags):
    name = "cls3d"
    help = "CT volume tags (multi-label, a 3-D network)"
    volumes = True

    # ------------------------------------------------------------ network
    def check_model(self, arch, encoder):
        from training.nets import model_code

        check_volume_net(self.name, model_code.VOLUME_NETS, "3-D network", arch, encoder)

    def build_hint(self, arch):
        return "; task cls3d builds MONAI or torchvision 3-D networks (`xwb models --task cls3d`)"

    def input_size(self, cfg):
        return cfg.data.volume_size

    def least_input(self, arch):
        return 16

    def probe_sizes(self, size):
        return [(size, size, size)]

    def hub_net(self, spec, weights):
        raise XwbError("model.encoder_weights: 3-D networks have no hub weights here; give a local weights file "
                       "(a MONAI or torchvision checkpoint, or an xwb one) or null")

    # ------------------------------------------------------------ training
    def fit_to_scans(self, cfg, kind):
        return fit_ct_augment(cfg, kind, self.name)

    def dataset(self, items, cfg, pre, rank, world):
        from training.loop import volumes

        return volumes.ClsVolumes(items, cfg, pre, rank, world)


TASK = VolumeTags()
