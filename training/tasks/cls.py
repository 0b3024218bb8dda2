"""Image tags: multi-label classification of whole scans; output (K,) independent probabilities."""
from __future__ import annotations

import numpy as np

from datasets.errors import XwbError
from training.tasks.base import Task, cut


class Tags(Task):
    name = "cls"
    help = "image tags (multi-label)"
    labels = "tags"
    monitor = "mAP"
    val_metrics = ("mAP", "mAUROC")
    key_metrics = ("mAP", "mAUROC")
    per_class_metric = "AP"
    shuffle = True

    # ------------------------------------------------------------ labels
    def pool(self, tax):
        return list(tax.tags)

    def load_labels(self, project, rec, names):
        if not rec.tags and rec.status not in ("done", "reviewed"):
            return None
        return [], np.array([1.0 if n in rec.tags else 0.0 for n in names], np.float32)

    def nothing_to_learn(self, items):
        if not any(it.tags is not None and it.tags.any() for it in items):
            return "no image tags in the train split: nothing to learn; tag scans first"
        return None

    def check_taxonomy(self, spec, tax, uri):
        missing = [t for t in spec["classes"] if t not in tax.tags]
        if missing:
            raise XwbError(f"{uri} was trained on another taxonomy; tags not in the project: {', '.join(missing)}")

    # ------------------------------------------------------------ network
    def check_model(self, arch, encoder):
        from training.nets import models

        if arch not in ("timm", "smp"):
            raise XwbError(f"model.arch: task cls uses 'timm' (a timm backbone) or 'smp' (an smp encoder), got {arch!r}")
        valid = models.cls_backbones() if arch == "timm" else models.seg_encoders()
        if encoder not in valid:
            raise models.unknown("backbone" if arch == "timm" else "encoder", encoder, valid, "model.encoder",
                                 full=False)

    def input_size(self, cfg):
        return cfg.data.image_size

    def outputs(self, k):
        return (-1, k)

    def hub_net(self, spec, weights):
        m = spec["model"]
        n_in, k = len(spec["preprocess"]["channels"]), len(spec["classes"])
        if m["arch"] == "smp":
            import segmentation_models_pytorch as smp

            from training.nets.model_code import _SmpClassifier

            return _SmpClassifier(smp.Unet(m["encoder"], encoder_weights=weights, in_channels=n_in, classes=1,
                                           aux_params={"classes": k, "dropout": m.get("dropout", 0.0),
                                                       "pooling": m.get("pool", "avg")}))
        import timm

        return timm.create_model(m["encoder"], pretrained=True, num_classes=k, in_chans=n_in,
                                 drop_rate=m.get("dropout", 0.0), global_pool=m.get("pool", "avg"))

    # ------------------------------------------------------------ training
    def dataset(self, items, cfg, pre, rank, world):
        from training.loop import data as D

        return D.ClsImages(items, cfg, pre, rank, world)

    # ------------------------------------------------------------ measuring
    def accumulator(self, classes, max_clicks=None):
        from training.evaluation.metrics import ClsAccumulator

        return ClsAccumulator(classes)

    def truth(self, item):
        return item.tags

    def report(self, res, pred, out, colors, regime):
        from training.evaluation import plots

        conf = np.array(res["confusion"]).sum(0)
        return [plots.confusion(conf, ["clear", "present"], out / "confusion.png",
                                "tag confusion at threshold, all tags")]

    # ------------------------------------------------------------ outputs
    def scores(self, probs, classes):
        return {c: float(probs[k]) for k, c in enumerate(classes)}

    def uncertainty(self, probs):
        p = np.clip(np.asarray(probs, np.float64), 1e-6, 1 - 1e-6)  # independent tags: binary entropy each
        return float((-(p * np.log2(p) + (1 - p) * np.log2(1 - p))).mean())

    def found(self, pred, spec, threshold, min_area):
        # "clear" and "contraband" are summaries of the scan, not goods a manifest declares
        return sorted(t for t, s in pred.scores.items() if s > cut(threshold, t) and t not in ("clear", "contraband"))

    def propose(self, project, rec, pred, spec, source, threshold, min_area):
        tags = {t: s for t, s in pred.scores.items() if s > cut(threshold, t)}
        project.store.replace_tag_proposals(rec.id, source, tags)
        return f"tags {', '.join(tags) or '-'}", len(tags)

    def write_prediction(self, pred, p, rgb, stem, doc, threshold, probs, min_area):
        import cv2

        pic = rgb.copy()
        for i, name in enumerate(sorted(p.scores, key=lambda n: -p.scores[n])[:5]):
            cv2.putText(pic, f"{name} {p.scores[name]:.2f}", (8, 22 + 20 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                        (255, 255, 255) if p.scores[name] > cut(threshold, name) else (160, 160, 160), 1, cv2.LINE_AA)
        return [], pic


TASK = Tags()
