"""Synthetic CT bags: 3-D scenes in linear attenuation, handed over as a baggage CT scanner reconstructs them.

The physics, step by step:
- **Scene.** A bag is a 3-D map of linear attenuation μ(x, E) in 1/cm: a plastic shell with an aluminium
  trolley frame, clutter of everyday goods (clothes, books, shoes, toiletries, phones, coins, cables, food,
  steel rulers and hangers: thin steel that is not a blade), then the objects that are labelled: threats of
  the taxonomy (knives, firearms, drug bricks, cigarette cartons, banknote bundles, ivory) and the labelled
  look-alikes (bottles of liquid, hand tools, laptops). μ per material and energy comes from the same NIST
  XCOM table as the 2-D generator (``physics.Regime``, effective ~90 and ~50 keV).
- **Partial volume.** Every part is a signed-distance shape (box, ellipsoid, cylinder, tapering tube) in
  voxel units, rotated at random; a voxel holds the fraction clip(0.5 − d, 0, 1) of it, so a 2 mm blade in a
  4 mm voxel reads as half steel, as a real reconstruction does. A labelled object is painted over what lies
  there (μ = f·μ_object + (1 − f)·μ_before): it owns its voxels, and its exact mask is f ≥ 0.5.
- **Reconstruction.** Filtered back-projection gives μ blurred by the system's point-spread function
  (Gaussian, σ 0.6 voxel) plus noise that is correlated between neighbouring voxels (white noise filtered,
  σ about 20 HU). Around metal, optional streaks: rays through much metal are photon-starved and hardened,
  so each axial slice gets dark lines along the directions of most metal path (the metal's projection at 12
  angles, smeared back along its rays) and lighter ones beside them.
- **CT numbers.** Stored the DICOM way: HU = 1000 (μ − μ_water) / μ_water at each energy, plus 1024, as uint16
  (air 24, water 1024, steel about 9400 at the high energy), with rescale intercept −1024. Dual energy writes
  the same scene at both energies, high then low: organics read alike in both, metals and dense inorganics
  far higher at the low energy, which tells materials apart as in 2-D.

Same seed, same volumes: volume i draws from its own generator seeded (seed, i).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from datasets.synth.physics import REGIMES

BAG_CM = 51.2                  # the volume's extent along x: a cabin bag of about 47 x 34 x 27 cm inside
DEFAULT_SHAPE = (80, 96, 128)  # z (slices), y, x: 4 mm voxels


def voxel_cm(shape: tuple[int, int, int]) -> float:
    """Cubic voxels whose x extent covers ``BAG_CM``: 4 mm at 128 voxels, 8 mm at 64."""
    return BAG_CM / shape[2]
HU_OFFSET = 1024
PSF_SIGMA = 0.6                # voxels
NOISE_HU = 20.0
CT_THREATS = ("firearm", "knife", "drugs", "cigarettes", "currency", "ivory")
CT_LOOKALIKES = ("bottle", "tool", "laptop")
CT_CLASSES = CT_THREATS + CT_LOOKALIKES
GOODS = {"clothes": "clothing", "book": "books", "shoe": "clothing", "toiletry": "toiletries",
         "phone": "electronics", "food": "foodstuff", "bottle": "liquids", "tool": "tools", "laptop": "electronics"}

Part = tuple[str, Callable[..., np.ndarray]]  # (material, signed distance of local points x, y, z, in voxels)


# -- signed distances of local points, in voxels; points come as three arrays (x, y, z) ------------------
# (component arrays, not an (N, 3) array: numpy's reductions over a short last axis cost more than the rest)
def box(hx: float, hy: float, hz: float, at=(0.0, 0.0, 0.0)) -> Callable[..., np.ndarray]:
    def d(x, y, z):
        qx, qy, qz = np.abs(x - at[0]) - hx, np.abs(y - at[1]) - hy, np.abs(z - at[2]) - hz
        out = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2 + np.maximum(qz, 0) ** 2)
        return out + np.minimum(np.maximum(qx, np.maximum(qy, qz)), 0)
    return d


def ellipsoid(rx: float, ry: float, rz: float, at=(0.0, 0.0, 0.0)) -> Callable[..., np.ndarray]:
    def d(x, y, z):
        ux, uy, uz = (x - at[0]) / rx, (y - at[1]) / ry, (z - at[2]) / rz
        k0 = np.sqrt(ux * ux + uy * uy + uz * uz)
        k1 = np.sqrt((ux / rx) ** 2 + (uy / ry) ** 2 + (uz / rz) ** 2)
        return k0 * (k0 - 1) / np.maximum(k1, 1e-6)
    return d


def cylinder(r: float, half: float, at=(0.0, 0.0, 0.0)) -> Callable[..., np.ndarray]:
    """Along local x."""
    def d(x, y, z):
        a, b = np.hypot(y - at[1], z - at[2]) - r, np.abs(x - at[0]) - half
        return np.hypot(np.maximum(a, 0), np.maximum(b, 0)) + np.minimum(np.maximum(a, b), 0)
    return d


def shell(inner: Callable, outer: Callable) -> Callable[..., np.ndarray]:
    return lambda x, y, z: np.maximum(outer(x, y, z), -inner(x, y, z))


def tube(points: np.ndarray, radii: np.ndarray) -> Callable[..., np.ndarray]:
    """A tube along a polyline with a radius per point (a tusk, a cable)."""
    pts, rad = np.asarray(points, np.float32), np.asarray(radii, np.float32)

    def d(x, y, z):
        best = np.full(np.broadcast_shapes(x.shape, y.shape, z.shape), np.inf, np.float32)
        for a, b, ra, rb in zip(pts[:-1], pts[1:], rad[:-1], rad[1:]):
            ab = b - a
            px, py, pz = x - a[0], y - a[1], z - a[2]
            t = np.clip((px * ab[0] + py * ab[1] + pz * ab[2]) / max(float(ab @ ab), 1e-6), 0, 1)
            dist = np.sqrt((px - t * ab[0]) ** 2 + (py - t * ab[1]) ** 2 + (pz - t * ab[2]) ** 2) - (ra + t * (rb - ra))
            np.minimum(best, dist, out=best)
        return best
    return d


def rotation(rng: np.random.Generator, flat: bool = False) -> np.ndarray:
    """A random rotation; ``flat``: lying in the bag (about z, with a small tilt), as packed things do."""
    if flat:
        a, t = rng.uniform(0, 2 * np.pi), rng.normal(0, 0.12)
        ca, sa, ct, st = np.cos(a), np.sin(a), np.cos(t), np.sin(t)
        return (np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, ct, -st], [0, st, ct]])
                ).astype(np.float32)
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]], np.float32)


@dataclass
class Thing:
    kind: str
    parts: list[Part]
    radius: float  # voxels: how far from its centre it can reach
    labelled: bool = False
    flat: bool = False  # too large to stand in a bag: it always lies (a laptop)


@dataclass
class CTScene:
    shape: tuple[int, int, int]
    mu: np.ndarray                                   # (2, Z, Y, X) float32 μ [high, low], 1/cm
    masks: list[tuple[str, np.ndarray, tuple[int, int, int]]] = field(default_factory=list)  # (class, voxels, xyz)
    goods: set[str] = field(default_factory=set)
    metal: np.ndarray | None = None                  # (Z, Y, X) bool: where steel, copper or lead lie


def _mu(material: str) -> np.ndarray:
    return REGIMES["kv"].mu(material)  # [high, low]


def place(scene: CTScene, thing: Thing, centre: np.ndarray, rot: np.ndarray, owned: np.ndarray) -> bool:
    """Paint a thing at ``centre`` (x, y, z voxels); a labelled one owns its voxels and records its mask.
    False (nothing painted) when a labelled thing would overlap another labelled one or leave the volume."""
    Z, Y, X = scene.shape
    lo, hi = _world_box(thing, centre, rot)
    cut_lo, cut_hi = lo < 0, hi > (X, Y, Z)  # where the box around the thing leaves the volume
    lo, hi = np.maximum(lo, 0), np.minimum(hi, (X, Y, Z))
    if (hi <= lo).any():
        return False
    c = centre.astype(np.float32)
    dz, dy, dx = np.ogrid[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]]
    dx, dy, dz = (dx - c[0]).astype(np.float32), (dy - c[1]).astype(np.float32), (dz - c[2]).astype(np.float32)
    local = [dx * rot[0, j] + dy * rot[1, j] + dz * rot[2, j] for j in range(3)]  # (p - c) @ rot, broadcast
    sl = (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    fracs = [(m, np.clip(0.5 - sdf(*local), 0, 1).astype(np.float32)) for m, sdf in thing.parts]
    total = np.clip(sum(f for _, f in fracs), 0, 1)
    if thing.labelled:
        mask = total >= 0.5
        if not mask.any() or (mask & owned[sl]).any() or _touches(total, cut_lo, cut_hi):
            return False  # overlapping another labelled thing, or not wholly inside the volume
        owned[sl] |= mask
    region = scene.mu[(slice(None), *sl)]
    keep = 1 - total if thing.labelled else 1.0  # a labelled thing replaces what lies there
    new = sum(f * _mu(m)[:, None, None, None] for m, f in fracs)
    region[...] = region * keep + new if thing.labelled else np.maximum(region, new)
    if scene.metal is not None:
        for m, f in fracs:
            if m in ("steel", "copper", "lead"):
                scene.metal[sl] |= f >= 0.5
    if thing.labelled:
        mz, my, mx = (np.flatnonzero(mask.any(axis=a)) for a in ((1, 2), (0, 2), (0, 1)))
        crop = mask[mz[0]:mz[-1] + 1, my[0]:my[-1] + 1, mx[0]:mx[-1] + 1]
        scene.masks.append((thing.kind, crop, (int(lo[0] + mx[0]), int(lo[1] + my[0]), int(lo[2] + mz[0]))))
    return True


def _local_box(thing: Thing, n: int = 24) -> np.ndarray:
    """The corners (8, 3) of a box around the thing in its own coordinates, found on a coarse grid."""
    r = float(thing.radius)
    g = np.linspace(-r, r, n, dtype=np.float32)
    step = float(g[1] - g[0])
    x, y, z = g[None, None, :], g[None, :, None], g[:, None, None]
    d = np.min([np.broadcast_to(sdf(x, y, z), (n, n, n)) for _, sdf in thing.parts], axis=0)
    zi, yi, xi = np.nonzero(d < step)
    if len(xi) == 0:
        return np.array([[sx * r, sy * r, sz * r] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], np.float32)
    lo = np.array([g[xi.min()], g[yi.min()], g[zi.min()]]) - step
    hi = np.array([g[xi.max()], g[yi.max()], g[zi.max()]]) + step
    return np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]] for i in (0, 1) for j in (0, 1) for k in (0, 1)],
                    np.float32)


def _world_box(thing: Thing, centre: np.ndarray, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer (x, y, z) lo and hi of the voxels the thing can reach, placed at ``centre`` turned by ``rot``."""
    corners = _local_box(thing) @ rot.T + centre  # local = (p - c) @ rot, so p = local @ rot.T + c
    return np.floor(corners.min(axis=0)).astype(int) - 1, np.ceil(corners.max(axis=0)).astype(int) + 2


def _touches(frac: np.ndarray, cut_lo: np.ndarray, cut_hi: np.ndarray) -> bool:
    """Whether a thing reaches a face of its box that the volume's edge cut off (axes x, y, z)."""
    for ax, arr_axis in enumerate((2, 1, 0)):
        if cut_lo[ax] and frac.take(0, axis=arr_axis).any() or cut_hi[ax] and frac.take(-1, axis=arr_axis).any():
            return True
    return False


def reconstruct(mu: np.ndarray, rng: np.random.Generator | None, metal: np.ndarray | None) -> np.ndarray:
    """μ (C, Z, Y, X) -> uint16 CT numbers (Z, Y, X, C): blur, correlated noise, metal streaks (see above)."""
    out = np.empty(mu.shape[1:] + (mu.shape[0],), np.uint16)
    water = _mu("organic")
    for c in range(mu.shape[0]):
        hu = ndimage.gaussian_filter(mu[c], PSF_SIGMA, mode="nearest")
        hu -= water[c]
        hu *= np.float32(1000.0 / water[c])
        if rng is not None:
            n = ndimage.gaussian_filter(rng.standard_normal(hu.shape, dtype=np.float32), 0.7)
            hu += n * np.float32(NOISE_HU / max(float(n.std()), 1e-6))
            if metal is not None and metal.any():
                hu += streaks(metal, mu[c], rng) * np.float32(1000.0 / water[c])
        hu += HU_OFFSET
        np.clip(hu, 0, 65535, out=hu)
        out[..., c] = np.rint(hu)
    return out


def streaks(metal: np.ndarray, mu: np.ndarray, rng: np.random.Generator, angles: int = 12) -> np.ndarray:
    # (path lengths in voxels times μ; scaled by the voxel size below)
    """Metal streaks per axial slice: the metal's path length along rays at ``angles`` directions, smeared
    back along the rays (what a photon-starved, hardened ray does to filtered back-projection)."""
    import cv2

    out = np.zeros(mu.shape, np.float32)
    Z, Y, X = mu.shape
    centre = (X / 2.0, Y / 2.0)
    for z in np.flatnonzero(metal.any(axis=(1, 2))):
        m = (metal[z] * mu[z]).astype(np.float32)
        acc = np.zeros((Y, X), np.float32)
        for k in range(angles):
            theta = 180.0 * k / angles + float(rng.uniform(-3, 3))
            fwd = cv2.getRotationMatrix2D(centre, theta, 1.0)
            rot = cv2.warpAffine(m, fwd, (X, Y), flags=cv2.INTER_LINEAR)
            path = rot.sum(axis=0)  # metal along each vertical ray (1/cm * voxels)
            smear = np.broadcast_to(-(path - ndimage.uniform_filter1d(path, 9) * 0.6), (Y, X)).astype(np.float32)
            acc += cv2.warpAffine(smear, cv2.getRotationMatrix2D(centre, -theta, 1.0), (X, Y),
                                  flags=cv2.INTER_LINEAR)
        out[z] = acc * np.float32(0.004 * voxel_cm((Z, Y, X)))
    return out
