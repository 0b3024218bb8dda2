"""Segmentation: per-pixel classes learnt from drawn regions; output (K+1, H, W), channel 0 background."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.regions import IGNORE_LABEL
from training.tasks.base import Task, cut


def components(pred, spec: dict, min_area: int = 16) -> list[dict]:
    """Connected regions per class: class name, score (highest probability inside), box, mask crop, outline."""
    import cv2

    out = []
    labels = pred.labels()
    for k, cname in enumerate(pred.classes, start=1):
        m = (labels == k).astype(np.uint8)
        if not m.any():
            continue
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        for j in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[j])
            if area < min_area:
                continue
            crop = lab[y:y + h, x:x + w] == j
            score = float(pred.probs[k, y:y + h, x:x + w][crop].max())
            cs, _ = cv2.findContours(crop.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            outline = (max(cs, key=cv2.contourArea)[:, 0, :] + [x, y]).tolist() if cs else []
            out.append({"class": cname, "score": score, "area": area, "box": [x, y, w, h], "mask": crop,
                        "outline": outline})
    return sorted(out, key=lambda r: -r["score"])


class Segmentation(Task):
    name = "seg"
    help = "per-pixel classes (segmentation)"
    labels = "classes"
    monitor = "mIoU"
    val_metrics = ("mIoU", "mDice", "pixel_acc")
    key_metrics = ("mIoU", "mDice")
    per_class_metric = "IoU"
    shuffle = False  # every crop is drawn at random already, deterministically per (seed, epoch, index)

    # ------------------------------------------------------------ labels
    def pool(self, tax):
        return tax.names

    def load_labels(self, project, rec, names):
        tax = project.taxonomy
        index = {tax.by_name(n).id: i + 1 for i, n in enumerate(names)}
        regs = project.store.regions(rec.id, state="accepted")
        if not regs and rec.status not in ("done", "reviewed"):
            return None  # not labelled yet: an empty label map would teach "nothing here"
        return [(IGNORE_LABEL if r.ignore else index[r.class_id], r) for r in regs
                if r.ignore or r.class_id in index], None

    def nothing_to_learn(self, items):
        if not any(it.regions for it in items):
            return "no accepted regions in the train split: nothing to learn; accept proposals or draw regions"
        return None

    def spec_labels(self, tax, names):
        implies = {n: list(tax.by_name(n).implies) for n in names if tax.by_name(n).implies}
        return {"class_ids": [tax.by_name(n).id for n in names], "colors": [list(tax.by_name(n).rgb) for n in names],
                **({"implies": implies} if implies else {})}

    def check_taxonomy(self, spec, tax, uri):
        missing = [n for n in spec["classes"] if not tax.has_name(n)]
        moved = [f"{n} (model id {i}, project id {tax.by_name(n).id})"
                 for n, i in zip(spec["classes"], spec["class_ids"]) if tax.has_name(n) and tax.by_name(n).id != i]
        if missing or moved:
            parts = ([f"not in the project: {', '.join(missing)}"] if missing else []) + \
                    ([f"different ids: {', '.join(moved)}"] if moved else [])
            raise XwbError(f"{uri} was trained on another taxonomy; {'; '.join(parts)}")

    # ------------------------------------------------------------ network
    def check_model(self, arch, encoder):
        from training.nets import models

        archs = models.seg_architectures()
        for name, why in models.UNUSABLE.items():
            if arch.lower() == name.lower():
                raise XwbError(f"model.arch: {name} cannot be used: {why}; valid: {', '.join(archs)}")
        if arch.lower() not in {a.lower() for a in archs}:
            raise models.unknown("architecture", arch, archs, "model.arch", full=True)
        if encoder.startswith("tu-"):  # any timm model as an smp encoder ("timm universal")
            import timm

            if encoder[3:] not in timm.list_models():
                raise models.unknown("timm model", encoder[3:], timm.list_models(), "model.encoder (tu-NAME)",
                                     full=False)
        elif encoder not in models.seg_encoders():
            raise models.unknown("encoder", encoder, models.seg_encoders(), "model.encoder", full=False)

    def spec_arch(self, arch):
        from training.nets import models

        return models.canonical_arch(arch)

    def build_hint(self, arch):
        if self.spec_arch(arch) == "DPT":
            return "; DPT takes timm encoders (tu-NAME)"
        return "; `xwb models --encoder` lists encoders, and tu-NAME names any timm model"

    def input_size(self, cfg):
        return cfg.data.tile

    def least_input(self, arch):
        from training.nets import model_code, models

        return model_code.MIN_INPUT.get(models.canonical_arch(arch), 32)

    def probe_sizes(self, size):
        return [(size, size), (size + 32, size + 64)]  # crops, and tiles of another size

    def outputs(self, k):
        return (-1, k + 1, -1, -1)

    def hub_net(self, spec, weights):
        import segmentation_models_pytorch as smp

        m = spec["model"]
        return smp.create_model(m["arch"], encoder_name=m["encoder"], encoder_weights=weights,
                                in_channels=len(spec["preprocess"]["channels"]), classes=len(spec["classes"]) + 1)

    # ------------------------------------------------------------ training
    def fit_to_scans(self, cfg, kind):
        if kind.layout == "rgb" and cfg.augment.tip:
            tip, cfg.augment.tip = cfg.augment.tip, 0.0
            return (f"note: augment.tip {tip} set to 0: threat image projection works on detector counts, "
                    f"and the project's scans are {kind}")
        return ""

    def dataset(self, items, cfg, pre, rank, world):
        from training.loop import data as D

        bank = D.threat_bank(items, seed=cfg.runtime.seed) if cfg.augment.tip else []
        return D.SegCrops(items, cfg, pre, rank, world, bank)

    # ------------------------------------------------------------ measuring
    def accumulator(self, classes, max_clicks=None):
        from training.evaluation.metrics import SegAccumulator

        return SegAccumulator(classes)

    def truth(self, item):
        return item.label_map()

    def report(self, res, pred, out, colors, regime):
        from training.evaluation import plots

        files = [plots.confusion(np.array(res["confusion"]), ["background", *pred.classes], out / "confusion.png")]
        for it, counts, truth, labels in res.get("_kept", []):
            rgb = plots.scan_rgb(counts, it.i0, it.dark, regime)
            (out / "overlays").mkdir(exist_ok=True)
            files.append(plots.truth_vs_prediction(rgb, truth, labels, colors,
                                                   out / "overlays" / f"{Path(it.path).stem}.png"))
        return files

    # ------------------------------------------------------------ outputs
    def scores(self, probs, classes):
        return {c: float(probs[k + 1].max()) for k, c in enumerate(classes)}

    def uncertainty(self, probs):
        # Normalised pixel entropy, averaged over the pixels the model does not call plain background
        # with confidence: most of a scan is background the model is sure of, and a whole-scan mean would
        # rank scans by how much baggage they hold. Weighted by the share of such pixels (square root), so
        # one unsure speck does not outrank a scan full of unsure objects.
        p = np.clip(probs.astype(np.float32, copy=False), 1e-6, 1.0)
        k = p.shape[0]
        candidate = p[0] < 0.9
        share = float(candidate.mean())
        if share == 0.0:
            return 0.0
        h = -(p[:, candidate] * np.log(p[:, candidate])).sum(0) / np.log(k)
        return float(h.mean() * np.sqrt(share))

    def implied_tags(self, pred, spec, threshold=None) -> dict[str, float]:
        """Image tags from the classes (the taxonomy's ``implies`` at training time); with ``threshold``,
        only classes above their cut count."""
        from datasets.taxonomy import implied_tags

        scores = {c: s for c, s in pred.scores.items() if threshold is None or s > cut(threshold, c)}
        return implied_tags(scores, spec.get("implies", {}))

    def found(self, pred, spec, threshold, min_area):
        return sorted({r["class"] for r in components(pred, spec, min_area) if r["score"] > cut(threshold, r["class"])})

    def propose(self, project, rec, pred, spec, source, threshold, min_area):
        from datasets.regions import Region

        tax = project.taxonomy
        regs = [Region(tax.by_name(r["class"]).id, mask=r["mask"], mask_x=r["box"][0], mask_y=r["box"][1],
                       state="proposal", source=source, score=r["score"], author=source)
                for r in components(pred, spec, min_area) if r["score"] > cut(threshold, r["class"])]
        tags = self.implied_tags(pred, spec, threshold)
        with project.store.transaction():  # regions and the tags they imply land together
            project.store.replace_proposals(rec.id, source, regs)
            project.store.replace_tag_proposals(rec.id, source, tags)
        return f"{len(regs)} proposals" + (f", tags {', '.join(sorted(tags))}" if tags else ""), len(regs)

    def write_prediction(self, pred, p, rgb, stem, doc, threshold, probs, min_area):
        from datasets.safefs import atomic_write
        from training.evaluation import plots
        from training.inference.outputs import png

        ids = np.array([0, *pred.spec["class_ids"]], np.uint8)
        files = [atomic_write(stem.with_suffix(".labels.png"), png(ids[p.labels()]))]  # taxonomy ids, 0 = bg
        doc["regions"] = [{k: v for k, v in r.items() if k != "mask"} for r in components(p, pred.spec, min_area)]
        if pred.spec.get("implies"):
            doc["tags"] = self.implied_tags(p, pred.spec)
        pic = plots.overlay(rgb, p.labels(), [tuple(c) for c in pred.spec["colors"]])
        if probs:
            files.append(atomic_write(stem.with_suffix(".probs.npz"), lambda f: np.savez_compressed(
                f, classes=np.array(pred.classes), probs=p.probs[1:].astype(np.float16))))
        return files, pic


TASK = Segmentation()
