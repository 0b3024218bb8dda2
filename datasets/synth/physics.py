"""The forward model: materials, attenuation, detector counts.

Beer-Lambert per energy E: A(E) = sum_m mu_m(E) * t_m (mu in 1/cm at the
material's density, t the path length in cm through it); transmission
T = exp(-A); detector counts I = I0 * T + quantum noise (Poisson, approximated
by a Gaussian of variance I0*T, exact enough above ~20 counts), a small blur
(detector crosstalk), a dark offset, quantised to uint16.

Two regimes, as on real scanners:
- ``kv``: checkpoint baggage/parcel scanners (~160 kV tube; effective ~50 and
  ~90 keV). Photo-electric absorption grows like Z^3, so metals attenuate the
  low energy far more: R = ln T_H / ln T_L = mu_H / mu_L is ~0.75 for organics,
  ~0.55 for light inorganics and ~0.2 for iron and copper.
- ``mv``: cargo linacs (effective ~3 and ~6 MeV). Compton dominates and pair
  production rises with Z, so R runs the other way and closer together:
  ~0.70 organic, ~0.73 aluminium, ~0.82 iron, ~1.0 lead.
Values are rounded NIST XCOM mass attenuation coefficients times density.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (density g/cm3, kv (mu/rho low, high) cm2/g, mv (mu/rho low, high) cm2/g, family)
_TABLE = {
    "organic":   (1.00, (0.210, 0.160), (0.0397, 0.0277), "organic"),   # water-like: food, flesh, liquids
    "textile":   (0.25, (0.200, 0.152), (0.0390, 0.0272), "organic"),   # clothes, packed bulk
    "paper":     (0.85, (0.205, 0.155), (0.0392, 0.0273), "organic"),   # books, banknotes
    "wood":      (0.60, (0.200, 0.152), (0.0390, 0.0272), "organic"),
    "plastic":   (0.95, (0.190, 0.150), (0.0400, 0.0280), "organic"),   # polyethylene
    "drug":      (1.20, (0.205, 0.156), (0.0393, 0.0274), "organic"),   # cocaine/heroin bricks
    "tobacco":   (0.35, (0.210, 0.158), (0.0395, 0.0275), "organic"),
    "glass":     (2.50, (0.290, 0.165), (0.0370, 0.0265), "inorganic"),
    "aluminium": (2.70, (0.320, 0.160), (0.0354, 0.0259), "inorganic"),
    "ivory":     (1.90, (0.340, 0.170), (0.0373, 0.0266), "inorganic"),  # dentine: hydroxyapatite + collagen
    "steel":     (7.85, (0.900, 0.190), (0.0362, 0.0295), "metal"),
    "copper":    (8.96, (1.250, 0.220), (0.0357, 0.0297), "metal"),
    "lead":      (11.35, (3.500, 0.900), (0.0421, 0.0436), "metal"),
}


@dataclass(frozen=True)
class Regime:
    name: str
    index: int  # column of the table

    def mu(self, material: str) -> np.ndarray:
        """Linear attenuation (1/cm) as [high, low]."""
        rho, kv, mv, _ = _TABLE[material]
        lo, hi = (kv, mv)[self.index]
        return np.array([hi * rho, lo * rho], dtype=np.float32)


REGIMES = {"kv": Regime("kv", 0), "mv": Regime("mv", 1)}
MATERIALS = {k: v[3] for k, v in _TABLE.items()}


@dataclass(frozen=True)
class Detector:
    """Detector of a dual-energy scanner: open-beam counts and dark offset per channel (high, low)."""

    i0: tuple[float, float] = (60000.0, 45000.0)
    dark: float = 80.0
    blur: bool = True

    def meta(self) -> dict:
        return {"i0": list(self.i0), "dark": self.dark}


def render_counts(att: np.ndarray, det: Detector, rng: np.random.Generator | None, blur: bool | None = None) -> np.ndarray:
    """Attenuation (2, H, W) float32 [high, low] -> uint16 counts (H, W, 2).

    ``rng=None`` gives the noiseless expected counts (used for ground truth).
    """
    out = np.empty(att.shape[1:] + (2,), dtype=np.uint16)
    do_blur = det.blur if blur is None else blur
    for c in range(2):
        i = np.exp(-att[c])
        i *= np.float32(det.i0[c])
        if rng is not None:
            # quantum noise: Gaussian approximation of Poisson(I)
            noise = rng.standard_normal(i.shape, dtype=np.float32)
            noise *= np.sqrt(i)
            i += noise
        if do_blur:
            i = _blur3(i)
        i += np.float32(det.dark)
        np.clip(i, 0, 65535, out=i)
        out[..., c] = np.rint(i, out=i, casting="unsafe")
    return out


def _blur3(a: np.ndarray) -> np.ndarray:
    """Separable [1/4, 1/2, 1/4] blur (detector crosstalk), edges replicated."""
    b = a * np.float32(0.5)
    b[1:] += a[:-1] * np.float32(0.25)
    b[:-1] += a[1:] * np.float32(0.25)
    b[0] += a[0] * np.float32(0.25)
    b[-1] += a[-1] * np.float32(0.25)
    c = b * np.float32(0.5)
    c[:, 1:] += b[:, :-1] * np.float32(0.25)
    c[:, :-1] += b[:, 1:] * np.float32(0.25)
    c[:, 0] += b[:, 0] * np.float32(0.25)
    c[:, -1] += b[:, -1] * np.float32(0.25)
    return c
