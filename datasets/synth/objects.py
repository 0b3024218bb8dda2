"""Contraband, benign look-alikes and everyday clutter as parametric solids.

Every generator takes (rng, cx, cy, px_per_cm, angle) and returns a Thing.
Sizes vary around real dimensions (a pistol ~18 cm, a carton 27x10.5 cm, a
tusk 60-150 cm) so that models meet them at many scales and rotations.
"""
from __future__ import annotations

import numpy as np

from datasets.synth.shapes import (
    Thing,
    box,
    convex,
    ellipsoid,
    make_thing,
    ring,
    rod,
    rounded_box,
    smooth_noise,
    tube_path,
)


def _j(rng, x, spread=0.2):
    return x * (1 + rng.uniform(-spread, spread))


# -- contraband ---------------------------------------------------------------------------------
def firearm(rng, cx, cy, s, a) -> Thing:
    if rng.random() < 0.25:  # long gun
        L = _j(rng, 90)
        parts = [("steel", rod(0, 0, L * 0.55, _j(rng, 1.1))), ("steel", box(-L * 0.05, 1.2, L * 0.25, 3.5, 2.5)),
                 ("wood", rounded_box(-L * 0.35, 2.5, L * 0.3, 9, 4, 1.5)), ("steel", ring(-L * 0.12, 3.5, 1.6, 0.35))]
        return make_thing("firearm", cx, cy, s, a, L * 0.55, parts, True)
    L = _j(rng, 18)
    grip = convex([(-L * 0.48, 1.2), (-L * 0.28, 1.2), (-L * 0.18, 11), (-L * 0.40, 11)], _j(rng, 2.8))
    parts = [("steel", rounded_box(0, 0, L, 3.0, _j(rng, 2.6), 0.5)),
             ("steel", rod(L * 0.05, 0.2, L * 0.9, 0.55)),
             ("plastic", grip),
             ("steel", convex([(-L * 0.44, 2), (-L * 0.32, 2), (-L * 0.25, 10), (-L * 0.36, 10)], 1.6)),  # magazine
             ("steel", ring(-L * 0.12, 3.2, 1.5, 0.3))]
    return make_thing("firearm", cx, cy, s, a, L * 0.75, parts, True)


def knife(rng, cx, cy, s, a) -> Thing:
    L, W = _j(rng, 18, 0.35), _j(rng, 3.2, 0.3)
    blade = convex([(0, -W / 2), (L * 0.6, -W / 2), (L * 0.6 + 0.1, -W / 2 + 0.1), (L * 0.6, W / 2 * 0.2), (0, W / 2)],
                   _j(rng, 0.3))
    handle = rounded_box(-L * 0.2, 0, L * 0.4, W * 0.9, _j(rng, 2.0), 0.6)
    return make_thing("knife", cx, cy, s, a, L * 0.65, [("steel", blade), (rng.choice(["wood", "plastic"]), handle)], True)


def drugs(rng, cx, cy, s, a) -> Thing:
    n = int(rng.integers(1, 5))
    L, W, T = _j(rng, 25), _j(rng, 15), _j(rng, 5)
    parts = []
    for k in range(n):
        off = (k - (n - 1) / 2) * (W + 0.5)
        parts += [("drug", rounded_box(0, off, L, W, T, 1.5)), ("plastic", rounded_box(0, off, L + 0.6, W + 0.6, 0.2, 0.3))]
    return make_thing("drugs", cx, cy, s, a, np.hypot(L / 2 + 1, n * (W + 0.5) / 2 + 1), parts, True)


def cigarettes(rng, cx, cy, s, a) -> Thing:
    nu, nv = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    L, W, T = 27.0, 10.5, 5.0
    parts = []
    for i in range(nu):
        for k in range(nv):
            cu, cv = (i - (nu - 1) / 2) * (L + 0.3), (k - (nv - 1) / 2) * (W + 0.3)
            carton = box(cu, cv, L, W, T)
            # rows of cigarettes: tobacco rods seen side-on, 0.8 cm pitch
            rods = (lambda c, cvv: (lambda u, v: c(u, v) * (0.75 + 0.25 * np.cos((v - cvv) * 2 * np.pi / 0.8))))(carton, cv)
            parts += [("tobacco", rods), ("paper", box(cu, cv, L + 0.2, W + 0.2, 0.15))]
    ext = np.hypot(nu * (L + 0.3) / 2, nv * (W + 0.3) / 2) + 1
    return make_thing("cigarettes", cx, cy, s, a, ext, parts, True)


def ivory(rng, cx, cy, s, a) -> Thing:
    if rng.random() < 0.3:  # carvings
        parts = [("ivory", ellipsoid(k * 6 - 6, rng.uniform(-2, 2), _j(rng, 3), _j(rng, 2), _j(rng, 2))) for k in range(3)]
        return make_thing("ivory", cx, cy, s, a, 14, parts, True)
    L = _j(rng, 90, 0.4)
    t = np.linspace(0, 1, 14)
    bend = rng.uniform(0.15, 0.35) * L
    centre = np.stack([(t - 0.5) * L, bend * (t - 0.5) ** 2 * 4 - bend / 2], 1)
    radii = _j(rng, 5.5) * (1 - t) ** 0.7 + 0.4
    pulp = tube_path(centre[:6], radii[:6] * 0.55)
    solid = tube_path(centre, radii)
    parts = [("ivory", lambda u, v: np.clip(solid(u, v) - pulp(u, v), 0, None))]
    return make_thing("ivory", cx, cy, s, a, L * 0.55 + 6, parts, True)


def solid_waste(rng, cx, cy, s, a) -> Thing:
    R = _j(rng, 30, 0.4)
    parts = [("plastic", rounded_box(0, 0, 2 * R, 1.4 * R, _j(rng, 25), 6))]
    for _ in range(int(rng.integers(6, 14))):
        c = rng.uniform(-R * 0.8, R * 0.8, 2) * [1, 0.6]
        r = rng.uniform(2, R * 0.4)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 6))
        pts = np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang)], 1)
        parts.append((rng.choice(["steel", "aluminium", "copper", "glass"]), convex(pts, rng.uniform(0.1, 0.8))))
    return make_thing("solid_waste", cx, cy, s, a, R * 1.3, parts, True)


def currency(rng, cx, cy, s, a) -> Thing:
    nu, nv = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    L, W, T = 15.6, 6.6, _j(rng, 4, 0.5)
    parts = []
    for i in range(nu):
        for k in range(nv):
            cu, cv = (i - (nu - 1) / 2) * (L + 0.2), (k - (nv - 1) / 2) * (W + 0.2)
            parts += [("paper", rounded_box(cu, cv, L, W, T, 0.3)), ("paper", box(cu, cv, 2.0, W + 0.1, 0.3))]
    return make_thing("currency", cx, cy, s, a, np.hypot(nu * L / 2, nv * W / 2) + 1, parts, True)


# -- benign look-alikes (labelled too) --------------------------------------------------------
def tool(rng, cx, cy, s, a) -> Thing:
    L = _j(rng, 25, 0.3)
    if rng.random() < 0.5:  # wrench
        parts = [("steel", rounded_box(0, 0, L, 2.0, 0.8, 0.3)), ("steel", ring(L / 2, 0, 1.6, 0.6)),
                 ("steel", ring(-L / 2, 0, 1.3, 0.5))]
    else:  # hammer
        parts = [("wood", rod(0, 0, L, 1.4)), ("steel", rounded_box(L / 2, 0, 3, 11, 3, 0.5))]
    return make_thing("tool", cx, cy, s, a, L / 2 + 6, parts, True)


def bottle(rng, cx, cy, s, a) -> Thing:
    L, R = _j(rng, 22), _j(rng, 4)
    outer, inner = ellipsoid(0, 0, L / 2, R, R), ellipsoid(0, 0, L / 2 - 0.4, R - 0.4, R - 0.4)
    parts = [("glass", lambda u, v: np.clip(outer(u, v) - inner(u, v), 0, None)),
             ("organic", lambda u, v: inner(u, v) * (u < L * 0.3)),
             ("glass", rod(L / 2 + 3, 0, 7, 1.4))]
    return make_thing("bottle", cx, cy, s, a, L / 2 + 7, parts, True)


def laptop(rng, cx, cy, s, a) -> Thing:
    L, W = _j(rng, 33, 0.1), _j(rng, 23, 0.1)
    parts = [("aluminium", rounded_box(0, 0, L, W, 0.35, 0.5)), ("glass", box(0, 0, L - 2, W - 2, 0.2)),
             ("copper", box(L * 0.15, -W * 0.1, L * 0.4, W * 0.45, 0.06))]
    parts += [("steel", rod(-L * 0.3 + k * 3.2, W * 0.3, 6.5, 0.9, np.pi / 2)) for k in range(4)]  # cells
    return make_thing("laptop", cx, cy, s, a, np.hypot(L, W) / 2 + 1, parts, True)


THREATS = {"firearm": firearm, "knife": knife, "drugs": drugs, "cigarettes": cigarettes, "ivory": ivory,
           "solid_waste": solid_waste, "currency": currency, "tool": tool, "bottle": bottle, "laptop": laptop}
CONTRABAND = ("firearm", "knife", "drugs", "cigarettes", "ivory", "solid_waste", "currency")


# -- baggage clutter ------------------------------------------------------------------------------------
def clothes(rng, cx, cy, s, a) -> Thing:
    L, W = _j(rng, 40, 0.4), _j(rng, 28, 0.4)
    th = make_thing("clothes", cx, cy, s, a, np.hypot(L, W) / 2, [("textile", rounded_box(0, 0, L, W, _j(rng, 12, 0.5), 6))])
    t = th.parts["textile"]
    th.parts["textile"] = t * (0.4 + 1.2 * smooth_noise(rng, *t.shape, cell=max(4, int(3 * s))))
    return th


def book(rng, cx, cy, s, a) -> Thing:
    return make_thing("book", cx, cy, s, a, 16, [("paper", box(0, 0, _j(rng, 22), _j(rng, 15), _j(rng, 3, 0.5)))])


def shoe(rng, cx, cy, s, a) -> Thing:
    return make_thing("shoe", cx, cy, s, a, 16, [("plastic", ellipsoid(0, 0, 14, 5, 4)),
                                                 ("steel", box(2, 0, 8, 1, 0.15))])


def phone(rng, cx, cy, s, a) -> Thing:
    return make_thing("phone", cx, cy, s, a, 9, [("aluminium", rounded_box(0, 0, 15, 7, 0.8, 0.4)),
                                                 ("copper", box(-2, 0, 7, 5, 0.05)), ("steel", box(4, 0, 5, 5, 0.1))])


def toiletry(rng, cx, cy, s, a) -> Thing:
    L, R = _j(rng, 12), _j(rng, 2.5)
    return make_thing("toiletry", cx, cy, s, a, L / 2 + 1, [("plastic", ellipsoid(0, 0, L / 2, R, R)),
                                                           ("organic", ellipsoid(0, 0, L / 2 - 0.3, R - 0.3, R - 0.3))])


def coins(rng, cx, cy, s, a) -> Thing:
    parts = [("copper", ellipsoid(rng.uniform(-3, 3), rng.uniform(-3, 3), 1.2, 1.2, 0.1)) for _ in range(int(rng.integers(2, 7)))]
    return make_thing("coins", cx, cy, s, a, 5, parts)


def cable(rng, cx, cy, s, a) -> Thing:
    t = np.linspace(0, 1, 10)
    c = np.stack([(t - 0.5) * 40, 6 * np.sin(t * rng.uniform(3, 9))], 1)
    return make_thing("cable", cx, cy, s, a, 24, [("copper", tube_path(c, np.full(10, 0.15))),
                                                  ("plastic", tube_path(c, np.full(10, 0.35)))])


CLUTTER = {"clothes": (clothes, 4), "book": (book, 1), "shoe": (shoe, 1), "phone": (phone, 1),
           "toiletry": (toiletry, 2), "coins": (coins, 1), "cable": (cable, 1)}
