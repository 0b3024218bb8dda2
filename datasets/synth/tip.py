"""Threat image projection (TIP): insert a labelled threat from one scan into another.

Physics. A dual-energy detector measures I = dark + I0 * exp(-A) per energy
channel, with A the line integral of attenuation. Materials along one ray add
their attenuations, so a threat placed into a scan multiplies the
transmission there: I_new = dark + (I_dst - dark) * exp(-A_threat). Working in
this log-transmission space per channel (never alpha blending of pixel
values) keeps the material ratio R = A_high / A_low of the threat and of what
lies behind it, as a real scanner would see the two stacked.

The threat's own attenuation is the source attenuation inside the region
minus the background it was lying on, estimated per channel as the median
attenuation of a thin ring just outside the region. In air (a blank scan)
that background is zero and the threat's attenuation comes through exactly.
Scale and rotation resample the attenuation patch bilinearly (the mask with
nearest neighbour); ``density`` multiplies the attenuation (a denser or
thicker item of the same material).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from datasets.calibration import attenuation
from datasets.errors import XwbError


@dataclass(frozen=True)
class DetectorModel:
    i0: tuple[float, ...]
    dark: float = 0.0

    @classmethod
    def from_meta(cls, meta: dict | None, channels: int, dtype=np.uint16) -> DetectorModel:
        if meta and "i0" in meta:
            return cls(tuple(float(v) for v in meta["i0"])[:channels], float(meta.get("dark", 0.0)))
        return cls((float(np.iinfo(dtype).max),) * channels, 0.0)  # unknown scanner: full scale is open beam


def _planes(a: np.ndarray) -> np.ndarray:
    return a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)


def threat_attenuation(counts: np.ndarray, mask: np.ndarray, det: DetectorModel, ring: int = 3) -> np.ndarray:
    """(C, h, w) attenuation of the threat inside ``mask`` (both cropped to the region's box + margin)."""
    planes = _planes(counts).astype(np.float32)
    att = attenuation(planes, np.asarray(det.i0, np.float32)[:, None, None], det.dark)
    k = np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)
    around = cv2.dilate(mask.astype(np.uint8), k).astype(bool) & ~mask
    out = np.zeros_like(att)
    for c in range(att.shape[0]):
        bg = float(np.median(att[c][around])) if around.any() else 0.0
        out[c] = np.where(mask, np.clip(att[c] - bg, 0, None), 0)
    return out


def project_threat(src: np.ndarray, src_mask: np.ndarray, dst: np.ndarray, x: float, y: float,
                   scale: float = 1.0, angle_deg: float = 0.0, density: float = 1.0,
                   src_meta: dict | None = None, dst_meta: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Project the region ``src_mask`` of scan ``src`` into ``dst`` centred at (x, y).

    src, dst: counts (H, W) or (H, W, C) with the same channels; src_mask: bool (H, W)
    of ``src``. Returns (new dst counts, bool mask of the threat in dst). ``dst`` is not modified.
    """
    if src_mask.shape != src.shape[:2]:
        raise XwbError(f"TIP: mask {src_mask.shape} does not match the source scan {src.shape[:2]}")
    if (src.ndim == 3) != (dst.ndim == 3) or (src.ndim == 3 and src.shape[2] != dst.shape[2]):
        raise XwbError("TIP: source and destination scans have different channels")
    ys, xs = np.nonzero(src_mask)
    if len(ys) == 0:
        raise XwbError("TIP: the source region is empty")
    m = 4
    y0, y1 = max(0, ys.min() - m), min(src.shape[0], ys.max() + 1 + m)
    x0, x1 = max(0, xs.min() - m), min(src.shape[1], xs.max() + 1 + m)
    ch = 1 if src.ndim == 2 else src.shape[2]
    sdet = DetectorModel.from_meta(src_meta, ch, src.dtype)
    ddet = DetectorModel.from_meta(dst_meta, ch, dst.dtype)
    patch_mask = src_mask[y0:y1, x0:x1]
    att = threat_attenuation(src[y0:y1, x0:x1], patch_mask, sdet)
    # rotate and scale about the patch centre, into a box that holds the result
    h, w = patch_mask.shape
    M = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle_deg, scale)
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) @ M.T
    bw, bh = int(np.ceil(np.ptp(corners[:, 0]))) + 2, int(np.ceil(np.ptp(corners[:, 1]))) + 2
    M[:, 2] = np.array([(bw - 1) / 2, (bh - 1) / 2]) - M[:, :2] @ np.array([(w - 1) / 2, (h - 1) / 2])
    identity = abs(scale - 1) < 1e-9 and abs(angle_deg % 360) < 1e-9
    if identity:
        warped = att * np.float32(density)
        wmask = patch_mask.copy()
        bw, bh = w, h
    else:
        warped = np.stack([cv2.warpAffine(a, M, (bw, bh), flags=cv2.INTER_LINEAR) for a in att]) * np.float32(density)
        wmask = cv2.warpAffine(patch_mask.astype(np.uint8), M, (bw, bh), flags=cv2.INTER_NEAREST).astype(bool)
    warped[:, ~wmask] = 0
    # place with its centre at (x, y), clipped to the destination
    H, W = dst.shape[:2]
    ox, oy = int(round(x - bw / 2)), int(round(y - bh / 2))
    cx0, cy0, cx1, cy1 = max(ox, 0), max(oy, 0), min(ox + bw, W), min(oy + bh, H)
    out = dst.copy()
    full_mask = np.zeros((H, W), dtype=bool)
    if cx1 <= cx0 or cy1 <= cy0:
        return out, full_mask
    sub = (slice(cy0 - oy, cy1 - oy), slice(cx0 - ox, cx1 - ox))
    region = out[cy0:cy1, cx0:cx1]
    planes = _planes(region).astype(np.float32)
    trans = np.exp(-warped[(slice(None),) + sub])
    new = ddet.dark + (planes - ddet.dark) * trans
    new = np.clip(np.rint(new), 0, np.iinfo(dst.dtype).max if dst.dtype.kind in "ui" else None).astype(dst.dtype)
    out[cy0:cy1, cx0:cx1] = new[0] if dst.ndim == 2 else np.moveaxis(new, 0, -1)
    full_mask[cy0:cy1, cx0:cx1] = wmask[sub] & (warped[(slice(None),) + sub].max(axis=0) > 0)
    return out, full_mask
