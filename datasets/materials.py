"""Declared goods against the material a dual-energy scan shows: a manifest check with no threat model.

A dual-energy scanner measures every pixel twice; the ratio of the two attenuations says what the beam
went through (organic, inorganic or metal; ``datasets.display`` colours scans from the same ratio). A
container declared as textiles whose content is metal-rich is worth a look whatever the metal is.

- ``material_mix``: the share of a scan's attenuation in each material class, weighted by the low-energy
  attenuation so thick material counts more than thin and air not at all.
- ``GOODS_MATERIAL``: what each manifest word is made of, mostly.
- ``calibrate``: how much of each material a scan shows *without* declaring it, on reference scans whose
  manifest is known to be complete (labelled scans tagged neither ``undeclared_goods`` nor
  ``contraband``). A container's own steel walls and a pallet's wood are in every scan; the threshold per
  material is the share that at most ``pfa`` of the references exceed.
- ``undeclared_materials``: the materials a scan shows above their threshold that none of its declared
  goods are made of.
Pure numpy: the workbench, the CLI and the benchmarks share it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasets.calibration import attenuation
from datasets.display import R_RANGE
from datasets.errors import XwbError

MATERIALS = ("organic", "inorganic", "metal")
# manifest word -> the material class most of it is (a lab's own words can be added here)
GOODS_MATERIAL = {
    "textiles": "organic", "clothing": "organic", "foodstuff": "organic", "paper": "organic", "books": "organic",
    "plastics": "organic", "furniture": "organic", "toiletries": "organic", "tobacco": "organic",
    "liquids": "organic", "electronics": "inorganic", "ceramics": "inorganic", "glassware": "inorganic",
    "machinery": "metal", "tools": "metal", "metal": "metal", "scrap": "metal", "vehicle parts": "metal",
}
MIN_ATTENUATION = 0.05  # low-energy attenuation below this is air or a thin bag wall: no material signal
MIN_REFERENCES = 5  # fewer reference scans without a material declared: that material is not checked
DEFAULT_PFA = 0.05
REFERENCE_EXCLUDE = ("undeclared_goods", "contraband")


def material_mix(pixels: np.ndarray, meta: dict, where: str = "scan") -> np.ndarray:
    """(3,) shares of organic, inorganic and metal in a dual-energy scan (H, W, 2) [high, low] counts."""
    if pixels.ndim != 3 or pixels.shape[2] < 2:
        raise XwbError(f"{where}: the material check needs dual-energy counts (high and low); this scan has one channel")
    regime = meta.get("regime")
    if regime not in R_RANGE:
        raise XwbError(f"{where}: the file does not say the scanner's regime (kv or mv); materials cannot be read")
    full = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    i0 = meta.get("i0") or [full, full]
    dark = float(meta.get("dark", 0.0))
    step = max(1, int(np.sqrt(pixels.shape[0] * pixels.shape[1] / 262144)))  # ~512x512 samples are plenty
    px = pixels[::step, ::step]
    ah = attenuation(px[..., 0], i0[0], dark)
    al = attenuation(px[..., 1], i0[1], dark)
    r_org, r_met = R_RANGE[regime]
    t = np.clip((ah / np.maximum(al, 1e-3) - r_org) / (r_met - r_org), 0, 1)
    w = np.where(al > MIN_ATTENUATION, al, 0).astype(np.float64)
    total = w.sum()
    if total <= 0:
        return np.zeros(3)
    bins = np.minimum((t * 3).astype(int), 2)
    return np.bincount(bins.ravel(), weights=w.ravel(), minlength=3) / total


def declared_materials(manifest: list[str], table: dict[str, str] | None = None) -> tuple[set[str], list[str]]:
    """Materials the declared goods are made of, and the manifest words the table does not know."""
    table = GOODS_MATERIAL if table is None else table
    mats, unknown = set(), []
    for word in manifest:
        m = table.get(word.strip().lower())
        if m is None:
            unknown.append(word)
        else:
            mats.add(m)
    return mats, unknown


@dataclass
class Calibration:
    """Per material: the share a scan may show without declaring it (None: too few references to say)."""

    thresholds: dict[str, float | None]
    references: dict[str, int]  # reference scans that did not declare the material
    pfa: float


def calibrate(mixes: list[np.ndarray], declared: list[set[str]], pfa: float = DEFAULT_PFA) -> Calibration:
    """Thresholds from reference scans (complete manifests): the (1 - pfa) quantile of each undeclared share."""
    if not 0 < pfa < 1:
        raise XwbError(f"--pfa must be a share between 0 and 1, got {pfa}")
    thr: dict[str, float | None] = {}
    refs: dict[str, int] = {}
    for k, m in enumerate(MATERIALS):
        shares = np.array([mix[k] for mix, d in zip(mixes, declared) if m not in d])
        refs[m] = len(shares)
        thr[m] = float(np.quantile(shares, 1 - pfa, method="higher")) if len(shares) >= MIN_REFERENCES else None
    return Calibration(thr, refs, pfa)


def undeclared_materials(mix: np.ndarray, declared: set[str], cal: Calibration) -> list[str]:
    """Materials above their threshold that nothing declared is made of."""
    return [m for k, m in enumerate(MATERIALS)
            if m not in declared and cal.thresholds[m] is not None and mix[k] > cal.thresholds[m]]
