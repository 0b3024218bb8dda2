"""What a synthetic CT bag holds (``datasets.synth.ct``): labelled threats and look-alikes, unlabelled clutter,
the bag itself. Sizes are drawn in cm (real objects' sizes, jittered) and turned into voxels by ``s``
(voxels per cm); each builder returns a ``Thing`` of parts (material, signed distance in local voxels)."""
from __future__ import annotations

import numpy as np

from datasets.synth.ct import Thing, box, cylinder, ellipsoid, shell, tube


def _j(rng, v: float, spread: float = 0.2) -> float:
    return float(v * rng.uniform(1 - spread, 1 + spread))


# -- labelled: threats ----------------------------------------------------------------------------------
def knife(rng, s):
    L, W, T = _j(rng, 15, 0.3) * s, _j(rng, 2.6) * s, _j(rng, 0.25, 0.3) * s
    H = _j(rng, 10) * s
    return Thing("knife", [("steel", box(L / 2, W / 2, T / 2, (L / 2, 0, 0))),
                           ("steel", box(L / 6, W / 3, T / 2, (L + L / 6 - 1, -W / 6, 0))),  # the tip, narrower
                           (str(rng.choice(["plastic", "wood"])), box(H / 2, W * 0.6, T * 2.5, (-H / 2, 0, 0)))],
                 float(np.hypot(L * 1.35, W)) + 2, True)


def firearm(rng, s):
    L, H = _j(rng, 17, 0.15) * s, _j(rng, 3.0, 0.1) * s
    g = _j(rng, 10, 0.15) * s
    tilt = 0.3  # the grip leans back
    grip = [("steel", box(H * 0.45, g / 2, H * 0.4, (-L / 2 + H * 0.6 + np.sin(tilt) * g / 2, -g / 2 - H / 2, 0))),
            ("plastic", box(H * 0.55, g / 2 + 0.3 * s, H * 0.5, (-L / 2 + H * 0.6 + np.sin(tilt) * g / 2,
                                                               -g / 2 - H / 2, 0)))]
    return Thing("firearm", [("steel", box(L / 2, H / 2, H * 0.4)),                              # slide
                             ("steel", cylinder(0.55 * s, L * 0.45, (0.05 * L, -0.1 * H, 0))),  # barrel
                             ("steel", box(0.25 * s, 1.2 * s, 0.3 * s, (-L / 2 + H * 1.6, -H, 0))), *grip],
                 float(np.hypot(L / 2, g + H)) + 3, True)


def drugs(rng, s):
    n = int(rng.integers(1, 4))
    L, W, T = _j(rng, 15) * s, _j(rng, 10) * s, _j(rng, 4) * s
    parts = []
    for k in range(n):
        at = (0, 0, (k - (n - 1) / 2) * (T + 0.2 * s))
        parts += [("drug", box(L / 2, W / 2, T / 2, at)),
                  ("plastic", shell(box(L / 2, W / 2, T / 2, at), box(L / 2 + 0.1 * s, W / 2 + 0.1 * s, T / 2 + 0.1 * s, at)))]
    return Thing("drugs", parts, float(np.linalg.norm([L, W, n * T])) / 2 + 2, True)


def cigarettes(rng, s):
    L, W, T = _j(rng, 27, 0.05) * s, _j(rng, 9, 0.05) * s, _j(rng, 5, 0.05) * s
    packs = [("tobacco", box(L / 10 - 0.15 * s, W / 2, T / 2, (-L / 2 + L / 10 * (2 * k + 1), 0, 0))) for k in range(5)]
    return Thing("cigarettes", [*packs, ("paper", shell(box(L / 2 - 0.1 * s, W / 2 - 0.1 * s, T / 2 - 0.1 * s),
                                                        box(L / 2, W / 2, T / 2)))],
                 float(np.linalg.norm([L, W, T])) / 2 + 2, True)


def currency(rng, s):
    L, W, T = 15.5 * s, 7.0 * s, _j(rng, 5, 0.4) * s
    straps = [("paper", box(0.6 * s, W / 2 + 0.1 * s, T / 2 + 0.1 * s, (x * L / 2, 0, 0))) for x in (-0.5, 0.5)]
    return Thing("currency", [("paper", box(L / 2, W / 2, T / 2)), *straps], float(np.linalg.norm([L, W, T])) / 2 + 2, True)


def ivory(rng, s):
    length, bend = _j(rng, 28, 0.3) * s, rng.uniform(0.4, 0.9)
    t = np.linspace(0, 1, 7)
    arc = np.stack([(t - 0.5) * length, bend * length * 0.25 * (t - 0.5) ** 2 * 4 - bend * length * 0.12,
                    np.zeros_like(t)], 1)
    r = (_j(rng, 2.4) * s) * (1 - 0.7 * t) + 0.3 * s
    return Thing("ivory", [("ivory", tube(arc, r))], length / 2 + 3 * s, True)


# -- labelled: look-alikes --------------------------------------------------------------------------------
def bottle(rng, s):
    r, h = _j(rng, 3.5) * s, _j(rng, 11) * s
    wall = str(rng.choice(["glass", "plastic"]))
    return Thing("bottle", [(wall, shell(cylinder(r - 0.3 * s, h), cylinder(r, h))),
                            ("organic", cylinder(r - 0.3 * s, h * 0.9, (-h * 0.1, 0, 0))),
                            (wall, cylinder(r * 0.4, h * 0.25, (h * 1.2, 0, 0)))], h * 1.5 + r, True)


def tool(rng, s):
    L = _j(rng, 20) * s
    return Thing("tool", [("steel", box(L / 2, 0.9 * s, 0.4 * s)), ("steel", box(1.6 * s, 1.8 * s, 0.5 * s, (L / 2, 0, 0))),
                          ("plastic", box(L / 4, 1.2 * s, 0.8 * s, (-L / 4, 0, 0)))], L / 2 + 3 * s, True)


def laptop(rng, s):
    L, W, T = _j(rng, 30, 0.1) * s, _j(rng, 21, 0.1) * s, 2.0 * s
    cells = [("steel", cylinder(0.9 * s, 3.2 * s, (-L / 2 + (k + 1) * L / 5, W * 0.35, 0))) for k in range(4)]
    case = shell(box(L / 2 - 0.2 * s, W / 2 - 0.2 * s, T / 2 - 0.2 * s), box(L / 2, W / 2, T / 2))
    return Thing("laptop", [("aluminium", case),
                            ("copper", box(L * 0.3, W * 0.3, 0.05 * s, (0, -W * 0.1, 0))), *cells],
                 float(np.linalg.norm([L, W, T])) / 2 + 2, True, flat=True)


LABELLED = {"knife": knife, "firearm": firearm, "drugs": drugs, "cigarettes": cigarettes, "currency": currency,
            "ivory": ivory, "bottle": bottle, "tool": tool, "laptop": laptop}


# -- clutter (unlabelled) ---------------------------------------------------------------------------------
def clothes(rng, s):
    L, W, T = _j(rng, 35, 0.3) * s, _j(rng, 25, 0.3) * s, _j(rng, 6, 0.5) * s
    return Thing("clothes", [("textile", ellipsoid(L / 2, W / 2, T / 2))], max(L, W) / 2 + 2)


def book(rng, s):
    return Thing("book", [("paper", box(_j(rng, 11) * s, _j(rng, 7.5) * s, _j(rng, 1.5, 0.5) * s))], 16 * s)


def shoe(rng, s):
    return Thing("shoe", [("plastic", ellipsoid(14 * s, 5 * s, 4 * s)),
                          ("steel", box(4 * s, 0.5 * s, 0.1 * s, (2 * s, 0, -3 * s)))], 15 * s)


def toiletry(rng, s):
    L, R = _j(rng, 6) * s, _j(rng, 2.5) * s
    return Thing("toiletry", [("plastic", shell(ellipsoid(L - 0.3 * s, R - 0.3 * s, R - 0.3 * s), ellipsoid(L, R, R))),
                              ("organic", ellipsoid(L - 0.3 * s, R - 0.3 * s, R - 0.3 * s))], L + 1)


def phone(rng, s):
    return Thing("phone", [("aluminium", box(7.5 * s, 3.5 * s, 0.4 * s)), ("copper", box(3.5 * s, 2.5 * s, 0.05 * s))], 9 * s)


def food(rng, s):
    return Thing("food", [("organic", box(_j(rng, 7) * s, _j(rng, 5) * s, _j(rng, 3) * s))], 10 * s)


def coins(rng, s):
    return Thing("coins", [("copper", cylinder(1.2 * s, 0.1 * s, (rng.uniform(-3, 3) * s, rng.uniform(-3, 3) * s, 0)))
                           for _ in range(int(rng.integers(2, 6)))], 6 * s)


def ruler(rng, s):
    """Thin steel that is no blade: a ruler or a hanger hook (blades must be told by their shape)."""
    L = _j(rng, 25) * s
    return Thing("ruler", [("steel", box(L / 2, 1.5 * s, 0.08 * s))], L / 2 + 2)


def cable(rng, s):
    t = np.linspace(0, 1, 8)
    pts = np.stack([(t - 0.5) * 30 * s, 5 * s * np.sin(t * rng.uniform(3, 9)), 2 * s * np.cos(t * 5)], 1)
    return Thing("cable", [("copper", tube(pts, np.full(8, 0.15 * s))), ("plastic", tube(pts, np.full(8, 0.35 * s)))],
                 17 * s)


CLUTTER = {"clothes": (clothes, 5), "book": (book, 1), "shoe": (shoe, 1), "toiletry": (toiletry, 2),
           "phone": (phone, 1), "food": (food, 1), "coins": (coins, 1), "ruler": (ruler, 1), "cable": (cable, 1)}


BAG_HALF = (0.46, 0.44, 0.42)  # the bag's half sizes as shares of the volume's x, y, z


def bag_frame(shape: tuple[int, int, int], s: float) -> list[Thing]:
    """The shell (plastic, 5 mm) and a trolley frame (two aluminium tubes) filling most of the volume."""
    Z, Y, X = shape
    hx, hy, hz = X * BAG_HALF[0], Y * BAG_HALF[1], Z * BAG_HALF[2]
    t = max(1.0, 0.5 * s)
    reach = float(np.linalg.norm([hx, hy, hz])) + 2
    body = Thing("bag", [("plastic", shell(box(hx - t, hy - t, hz - t), box(hx, hy, hz)))], reach)
    rods = Thing("frame", [("aluminium", shell(cylinder(0.6 * s, hx * 0.95, (0, y, -hz + 1.2 * s)),
                                               cylinder(0.9 * s, hx * 0.95, (0, y, -hz + 1.2 * s))))
                           for y in (-hy * 0.7, hy * 0.7)], reach)
    return [body, rods]
