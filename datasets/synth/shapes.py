"""Parametric objects as thickness maps (cm of each material along the beam).

An object is built in its own frame (u, v in cm), rotated and scaled to
pixels, and evaluated only over its bounding box. Thickness profiles follow
the solid's shape (a rod is thickest on its axis, an ellipsoid at its centre),
so the X-ray image shows the same gradients a real scan does.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Profile = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Thing:
    """An object placed in a scene: per-material thickness over its box at (x0, y0)."""

    kind: str  # contraband class name, or a clutter/goods kind
    x0: int
    y0: int
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    is_threat: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return next(iter(self.parts.values())).shape

    def footprint(self) -> np.ndarray:
        fp = np.zeros(self.shape, dtype=bool)
        for t in self.parts.values():
            fp |= t > 0
        return fp

    def attenuation(self, regime) -> np.ndarray:
        """(2, h, w) float32 attenuation [high, low] of this object alone."""
        h, w = self.shape
        a = np.zeros((2, h, w), dtype=np.float32)
        for mat, t in self.parts.items():
            mu = regime.mu(mat)
            a[0] += mu[0] * t
            a[1] += mu[1] * t
        return a


# -- primitives in the object frame (u, v in cm) -----------------------------------------
def _bounded(f, cu, cv, radius):
    """Tag a profile with a bounding circle so that it is evaluated only near it."""
    f.bounds = (float(cu), float(cv), float(radius))
    return f


def box(cu, cv, length, width, t) -> Profile:
    return _bounded(lambda u, v: np.where((np.abs(u - cu) <= length / 2) & (np.abs(v - cv) <= width / 2), t, 0.0),
                    cu, cv, np.hypot(length, width) / 2)


def rounded_box(cu, cv, length, width, t, r) -> Profile:
    """A slab with rounded edges: thickness falls off over the last ``r`` cm."""
    def f(u, v):
        du = np.clip(length / 2 - np.abs(u - cu), 0, None)
        dv = np.clip(width / 2 - np.abs(v - cv), 0, None)
        d = np.minimum(np.minimum(du, dv), r) / r
        return np.where((du > 0) & (dv > 0), t * np.sqrt(1 - (1 - d) ** 2), 0.0)
    return _bounded(f, cu, cv, np.hypot(length, width) / 2)


def rod(cu, cv, length, radius, angle=0.0) -> Profile:
    ca, sa = np.cos(angle), np.sin(angle)

    def f(u, v):
        uu = (u - cu) * ca + (v - cv) * sa
        vv = -(u - cu) * sa + (v - cv) * ca
        return np.where(np.abs(uu) <= length / 2, 2 * np.sqrt(np.clip(radius ** 2 - vv ** 2, 0, None)), 0.0)
    return _bounded(f, cu, cv, np.hypot(length / 2, radius))


def ellipsoid(cu, cv, a, b, c) -> Profile:
    return _bounded(lambda u, v: 2 * c * np.sqrt(np.clip(1 - ((u - cu) / a) ** 2 - ((v - cv) / b) ** 2, 0, None)),
                    cu, cv, max(a, b))


def ring(cu, cv, radius, tube) -> Profile:
    def f(u, v):
        d = np.hypot(u - cu, v - cv) - radius
        return 2 * np.sqrt(np.clip(tube ** 2 - d ** 2, 0, None))
    return _bounded(f, cu, cv, radius + tube)


def convex(points, t) -> Profile:
    """A convex polygon slab (points counter-clockwise in u, v)."""
    pts = np.asarray(points, dtype=np.float64)

    def f(u, v):
        inside = np.ones(u.shape, dtype=bool)
        for (x0, y0), (x1, y1) in zip(pts, np.roll(pts, -1, axis=0)):
            inside &= (x1 - x0) * (v - y0) - (y1 - y0) * (u - x0) >= 0
        return np.where(inside, t, 0.0)
    return f


def _window(u: np.ndarray, v: np.ndarray, cu: float, cv: float, r: float):
    """Array slices covering the disc (cu, cv, r) of the object frame; u, v are affine in the indices."""
    if u.shape[0] < 2 or u.shape[1] < 2:
        return slice(None), slice(None)
    A = np.array([[u[1, 0] - u[0, 0], u[0, 1] - u[0, 0]], [v[1, 0] - v[0, 0], v[0, 1] - v[0, 0]]], np.float64)
    i, j = np.linalg.solve(A, np.array([cu - u[0, 0], cv - v[0, 0]], np.float64))
    step = float(np.sqrt(abs(np.linalg.det(A))))
    rr = r / max(step, 1e-9) + 2
    return (slice(max(0, int(i - rr)), max(0, int(i + rr) + 2)), slice(max(0, int(j - rr)), max(0, int(j + rr) + 2)))


def tube_path(centre: np.ndarray, radii: np.ndarray) -> Profile:
    """A curved, tapering solid along a polyline (tusks, pipes): radius per vertex."""
    def f(u, v):
        best = np.full(u.shape, np.inf, dtype=np.float32)
        rad = np.zeros(u.shape, dtype=np.float32)
        for (p0, p1, r0, r1) in zip(centre[:-1], centre[1:], radii[:-1], radii[1:]):
            mid = (p0 + p1) / 2
            w = _window(u, v, mid[0], mid[1], float(np.hypot(*(p1 - p0))) / 2 + max(r0, r1))
            uu, vv = u[w], v[w]
            d = p1 - p0
            L2 = float(d @ d) or 1e-9
            sp = np.clip(((uu - p0[0]) * d[0] + (vv - p0[1]) * d[1]) / L2, 0, 1)
            dist = np.hypot(uu - p0[0] - sp * d[0], vv - p0[1] - sp * d[1])
            bw, rw = best[w], rad[w]
            closer = dist < bw
            best[w] = np.where(closer, dist, bw)
            rad[w] = np.where(closer, r0 + sp * (r1 - r0), rw)
        return 2 * np.sqrt(np.clip(rad ** 2 - best ** 2, 0, None))
    lo, hi = centre.min(axis=0), centre.max(axis=0)
    mid = (lo + hi) / 2
    return _bounded(f, mid[0], mid[1], float(np.hypot(*(hi - lo))) / 2 + float(np.max(radii)))


def make_thing(kind: str, cx: float, cy: float, scale: float, angle: float, extent: float,
               parts: list[tuple[str, Profile]], is_threat: bool = False) -> Thing:
    """Evaluate profiles over the object's pixel box. ``extent``: radius (cm) enclosing the object."""
    half = int(np.ceil(extent * scale)) + 1
    x0, y0 = int(round(cx)) - half, int(round(cy)) - half
    n = 2 * half + 1
    xs = (np.arange(n, dtype=np.float32) + x0 + 0.5 - cx) / scale
    ys = (np.arange(n, dtype=np.float32) + y0 + 0.5 - cy) / scale
    X, Y = np.meshgrid(xs, ys)
    ca, sa = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    u = X * ca + Y * sa
    v = -X * sa + Y * ca
    out: dict[str, np.ndarray] = {}
    for mat, prof in parts:
        b = getattr(prof, "bounds", None)
        if b is None:
            t = np.asarray(prof(u, v), dtype=np.float32)
        else:  # evaluate only over the primitive's own pixel window
            bu, bv, br = b
            px = (bu * ca - bv * sa) * scale + cx - x0 - 0.5
            py = (bu * sa + bv * ca) * scale + cy - y0 - 0.5
            r = br * scale + 2
            i0, i1 = max(0, int(py - r)), min(n, int(py + r) + 2)
            j0, j1 = max(0, int(px - r)), min(n, int(px + r) + 2)
            t = np.zeros((n, n), dtype=np.float32)
            if i1 > i0 and j1 > j0:
                t[i0:i1, j0:j1] = prof(u[i0:i1, j0:j1], v[i0:i1, j0:j1])
        out[mat] = out[mat] + t if mat in out else t
    th = Thing(kind, x0, y0, out, is_threat)
    return _trim(th)


def _trim(th: Thing) -> Thing:
    fp = th.footprint()
    ys, xs = np.flatnonzero(fp.any(1)), np.flatnonzero(fp.any(0))
    if len(ys) == 0:
        return th
    sl = (slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1))
    return Thing(th.kind, th.x0 + int(xs[0]), th.y0 + int(ys[0]), {m: t[sl] for m, t in th.parts.items()}, th.is_threat)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int = 8) -> np.ndarray:
    """Cheap smooth texture in [0, 1): coarse noise upsampled bilinearly."""
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    g = rng.random((gh, gw), dtype=np.float32)
    yi = np.linspace(0, gh - 1.001, h, dtype=np.float32)
    xi = np.linspace(0, gw - 1.001, w, dtype=np.float32)
    y0, x0 = yi.astype(int), xi.astype(int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    a = g[y0][:, x0] * (1 - fx) + g[y0][:, x0 + 1] * fx
    b = g[y0 + 1][:, x0] * (1 - fx) + g[y0 + 1][:, x0 + 1] * fx
    return a * (1 - fy) + b * fy
