"""3-D segmentation of CT volumes: per-voxel classes learnt from voxel regions and 3-D boxes, output
(K+1, Z, Y, X), channel 0 background; its objects become 3-D region proposals the annotator accepts or fixes.

The metrics (IoU and Dice per class over voxels, AP/AUROC/Pd at PFA per volume from each class's highest
voxel probability) and the label handling are those of 2-D segmentation (``seg``); the network is a MONAI
3-D U-Net trained on cubes of ``data.tile`` voxels at the volume's own resolution and run over the whole
volume by a sliding window.
"""
from __future__ import annotations

import numpy as np

from datasets.errors import XwbError
from training.tasks.base import cut
from training.tasks.seg import Segmentation


def objects(pred, min_voxels: int) -> list[dict]:
    from datasets.voxel_edit import components3d

    return components3d(pred.labels(), pred.probs, pred.classes, min_voxels)


class VolumeSegmentation(Segmentation):
    name = "seg3d"
    help = "per-voxel classes of CT volumes (a 3-D U-Net); objects become 3-D proposals"
    volumes = True

    # ------------------------------------------------------------ network
    def check_model(self, arch, encoder):
        from training.nets import model_code
        from training.tasks.cls3d import check_volume_net

        check_volume_net(self.name, model_code.VOLUME_SEG_NETS, "3-D segmentation network", arch, encoder)

    def spec_arch(self, arch):
        return arch

    def build_hint(self, arch):
        return "; task seg3d builds MONAI's unet, basicunet or segresnet"

    def least_input(self, arch):
        return 32

    def probe_sizes(self, size):
        return [(size, size, size)]

    def outputs(self, k):
        return (-1, k + 1, -1, -1, -1)

    def hub_net(self, spec, weights):
        raise XwbError("model.encoder_weights: 3-D networks have no hub weights here; give a local weights file or "
                       "null")

    # ------------------------------------------------------------ training
    def fit_to_scans(self, cfg, kind):
        from training.tasks.cls3d import fit_ct_augment

        return fit_ct_augment(cfg, kind, self.name)

    def dataset(self, items, cfg, pre, rank, world):
        from training.loop import volumes

        return volumes.SegVolumeCrops(items, cfg, pre, rank, world)

    # ------------------------------------------------------------ measuring
    def truth(self, item):
        return item.label_volume()

    def report(self, res, pred, out, colors, regime):
        from training.evaluation import plots

        return [plots.confusion(np.array(res["confusion"]), ["background", *pred.classes], out / "confusion.png")]

    # ------------------------------------------------------------ outputs
    def found(self, pred, spec, threshold, min_area):
        return sorted({o["class"] for o in objects(pred, min_area) if o["score"] > cut(threshold, o["class"])})

    def propose(self, project, rec, pred, spec, source, threshold, min_area):
        from datasets.regions import Region

        tax = project.taxonomy
        regs = [Region(tax.by_name(o["class"]).id, voxels=o["mask"], mask_x=o["at"][0], mask_y=o["at"][1],
                       mask_z=o["at"][2], state="proposal", source=source, score=o["score"], author=source)
                for o in objects(pred, min_area) if o["score"] > cut(threshold, o["class"])]
        tags = self.implied_tags(pred, spec, threshold)
        with project.store.transaction():  # the objects and the tags they imply land together
            project.store.replace_proposals(rec.id, source, regs)
            project.store.replace_tag_proposals(rec.id, source, tags)
        return f"{len(regs)} 3-D proposals" + (f", tags {', '.join(sorted(tags))}" if tags else ""), len(regs)

    def write_prediction(self, pred, p, rgb, stem, doc, threshold, probs, min_area):
        from training.evaluation import plots

        found = objects(p, min_area)
        doc["regions"] = [{k: v for k, v in o.items() if k != "mask"} for o in found]
        if pred.spec.get("implies"):
            doc["tags"] = self.implied_tags(p, pred.spec)
        shadow = p.labels().max(axis=1)  # the objects seen from above, as the radiograph shows the bag (z, x)
        return [], plots.overlay(rgb, shadow, [tuple(c) for c in pred.spec["colors"]])


TASK = VolumeSegmentation()
