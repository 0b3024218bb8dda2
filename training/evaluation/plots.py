"""Pictures a reviewer reads: ROC (Pd against PFA), PR, confusion, and predictions over scans."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from datasets.display import gray8, material_rgb


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def roc_pr(scores: np.ndarray, present: np.ndarray, classes: list[str], out: Path, title: str = "") -> Path:
    """One figure: ROC with log PFA axis (screening reads it at 1 % and 5 %) and PR, per class."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for c, name in enumerate(classes):
        y = present[:, c].astype(int)
        if y.min() == y.max():
            continue
        fpr, tpr, _ = roc_curve(y, scores[:, c])
        a1.plot(np.maximum(fpr, 1e-3), tpr, label=name)
        p, r, _ = precision_recall_curve(y, scores[:, c])
        a2.plot(r, p, label=name)
    for pfa in (0.01, 0.05):
        a1.axvline(pfa, color="grey", ls=":", lw=1)
    a1.set(xscale="log", xlim=(1e-3, 1), ylim=(0, 1.02), xlabel="PFA (false alarms per clear scan)",
           ylabel="Pd", title="ROC (image level)")
    a2.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title="precision-recall (image level)")
    if a1.get_legend_handles_labels()[0]:
        a1.legend(fontsize=7, loc="lower right")
    else:  # (a split without both clear and positive scans of any class has no curve to draw)
        a1.text(0.5, 0.5, "no class has both positive and clear scans here", ha="center", transform=a1.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def confusion(matrix: np.ndarray, labels: list[str], out: Path, title: str = "pixel confusion (row-normalised)") -> Path:
    plt = _plt()
    m = np.asarray(matrix, np.float64)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i].sum():
                ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="truth", title=title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def scan_rgb(counts: np.ndarray, i0, dark: float, regime: str = "kv") -> np.ndarray:
    """Display picture of a scan: material colour for dual energy, the picture itself for colour, grey otherwise."""
    if counts.ndim == 3 and counts.shape[2] >= 3:  # a pseudo-colour picture: shown as it is, at 8 bits
        top = float(np.iinfo(counts.dtype).max) if counts.dtype.kind in "ui" else float(counts.max() or 1)
        return np.clip(np.asarray(counts[..., :3], np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    if counts.ndim == 3 and counts.shape[2] >= 2:
        return material_rgb(counts[..., 0], counts[..., 1], i0=tuple(i0[:2]), dark=dark, regime=regime)
    g = gray8(counts[..., 0] if counts.ndim == 3 else counts)
    return np.repeat(g[..., None], 3, axis=2)


def overlay(rgb: np.ndarray, labels: np.ndarray, colors: list[tuple[int, int, int]], alpha: float = 0.45) -> np.ndarray:
    """Blend class colours (index 1..K) over a picture; outlines drawn solid."""
    import cv2

    out = rgb.astype(np.float32).copy()
    for k, col in enumerate(colors, start=1):
        m = labels == k
        if not m.any():
            continue
        out[m] = out[m] * (1 - alpha) + np.array(col, np.float32) * alpha
        edge = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
        out[edge] = col
    return out.clip(0, 255).astype(np.uint8)


def truth_vs_prediction(rgb: np.ndarray, truth: np.ndarray, pred: np.ndarray, colors, out: Path) -> Path:
    """Side by side (or stacked for long cargo scans): truth left/top, prediction right/bottom."""
    import cv2

    a, b = overlay(rgb, truth, colors), overlay(rgb, pred, colors)
    sep = np.full((a.shape[0], 6, 3), 255, np.uint8) if a.shape[1] <= a.shape[0] * 1.5 else None
    pic = np.concatenate([a, sep, b], axis=1) if sep is not None else \
        np.concatenate([a, np.full((6, a.shape[1], 3), 255, np.uint8), b], axis=0)
    scale = min(1.0, 1600 / max(pic.shape[:2]))
    if scale < 1:
        pic = cv2.resize(pic, (int(pic.shape[1] * scale), int(pic.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out), pic[..., ::-1])
    return out
