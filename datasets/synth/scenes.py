"""Scenes: baggage, parcels and cargo containers composed in attenuation space.

A Scene holds a background attenuation (container walls, bag shell, bulk
goods) and a list of placed objects; rendering adds every object's
attenuation (never alpha-blends), then runs the detector model. Ground truth
for each threat is the set of pixels where removing it changes the
noiseless detector signal by at least one count: exactly what is visible.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datasets.errors import XwbError
from datasets.synth import CLEAN
from datasets.synth import objects as O
from datasets.synth.physics import REGIMES, Detector, Regime, render_counts
from datasets.synth.shapes import Thing, smooth_noise

KINDS = ("cargo", "baggage", "parcel")
OCCLUSIONS = ("easy", "hard", "hidden")
DEFAULT_SIZE = {"cargo": (512, 2048), "baggage": (768, 1024), "parcel": (512, 640)}
MIN_SIZE = {"cargo": (128, 512), "baggage": (128, 160), "parcel": (96, 128)}
CM_ACROSS = {"cargo": 1350.0, "baggage": 100.0, "parcel": 70.0}  # field of view width in cm
CARGO_GOODS = {  # declared goods of containers: material, bulk density factor, texture cell (cm)
    "textiles": ("textile", 0.9, 40), "electronics": ("aluminium", 0.06, 15), "machinery": ("steel", 0.05, 60),
    "furniture": ("wood", 0.35, 50), "foodstuff": ("organic", 0.35, 30), "ceramics": ("glass", 0.12, 25),
    "paper": ("paper", 0.45, 50), "plastics": ("plastic", 0.3, 40),
}
CLUTTER_GOODS = {"clothes": "clothing", "shoe": "clothing", "book": "books", "phone": "electronics",
                 "cable": "electronics", "toiletry": "toiletries", "coins": None}


@dataclass
class Scene:
    kind: str
    regime: Regime
    detector: Detector
    background: np.ndarray  # (2, H, W) float32
    things: list[Thing] = field(default_factory=list)
    goods: set[str] = field(default_factory=set)
    occlusion: list[str] = field(default_factory=list)  # per threat, in order of the threats

    @property
    def shape(self) -> tuple[int, int]:
        return self.background.shape[1:]

    def attenuation(self, skip: int | None = None) -> np.ndarray:
        att = self.background.copy()
        for k, th in enumerate(self.things):
            if k != skip:
                add_thing(att, th, self.regime)
        return att

    def render(self, rng: np.random.Generator | None, att: np.ndarray | None = None) -> np.ndarray:
        return render_counts(self.attenuation() if att is None else att, self.detector, rng)

    def visible_mask(self, k: int, att: np.ndarray) -> tuple[np.ndarray, int, int]:
        """Pixels (in the thing's box) where removing thing k changes the noiseless counts by >= 1."""
        th = self.things[k]
        sl_img, sl_obj = _clip(th, self.shape)
        if sl_img is None:
            return np.zeros((0, 0), bool), 0, 0
        a_with = att[(slice(None),) + sl_img]
        a_without = a_with - th.attenuation(self.regime)[(slice(None),) + sl_obj]
        vis = np.zeros(a_with.shape[1:], dtype=bool)
        for c in range(2):
            i0 = self.detector.i0[c]
            vis |= np.abs(np.rint(i0 * np.exp(-a_with[c])) - np.rint(i0 * np.exp(-np.maximum(a_without[c], 0)))) >= 1
        vis &= th.footprint()[sl_obj]
        return vis, sl_img[1].start, sl_img[0].start


def _clip(th: Thing, shape):
    h, w = th.shape
    H, W = shape
    x0, y0 = max(th.x0, 0), max(th.y0, 0)
    x1, y1 = min(th.x0 + w, W), min(th.y0 + h, H)
    if x1 <= x0 or y1 <= y0:
        return None, None
    return (slice(y0, y1), slice(x0, x1)), (slice(y0 - th.y0, y1 - th.y0), slice(x0 - th.x0, x1 - th.x0))


def add_thing(att: np.ndarray, th: Thing, regime: Regime, sign: float = 1.0) -> None:
    sl_img, sl_obj = _clip(th, att.shape[1:])
    if sl_img is None:
        return
    for mat, t in th.parts.items():
        mu = regime.mu(mat) * np.float32(sign)
        tt = t[sl_obj]
        att[0][sl_img] += mu[0] * tt
        att[1][sl_img] += mu[1] * tt


# -- scene builders -----------------------------------------------------------------------------
def _box_field(H, W, x0, y0, x1, y1, value, att, mu):
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(W, int(x1)), min(H, int(y1))
    if x1 > x0 and y1 > y0:
        att[0, y0:y1, x0:x1] += mu[0] * value
        att[1, y0:y1, x0:x1] += mu[1] * value


def _bag(rng, H, W, s, regime, att, kind):
    """Bag or parcel shell: faces crossed twice everywhere inside, edge walls seen end-on."""
    mx, my = int(W * rng.uniform(0.04, 0.08)), int(H * rng.uniform(0.05, 0.1))
    mat, wall = ("plastic", 0.35) if kind == "baggage" else ("paper", 0.5)
    mu = regime.mu(mat)
    _box_field(H, W, mx, my, W - mx, H - my, 2 * wall, att, mu)
    e = max(2, int(1.2 * s))
    depth = 20.0 if kind == "baggage" else 12.0
    for (x0, y0, x1, y1) in ((mx, my, W - mx, my + e), (mx, H - my - e, W - mx, H - my),
                             (mx, my, mx + e, H - my), (W - mx - e, my, W - mx, H - my)):
        _box_field(H, W, x0, y0, x1, y1, depth * 0.25, att, mu)
    if kind == "baggage":  # trolley rods along one side
        steel = regime.mu("steel")
        for k in (0.3, 0.7):
            y = int(my + k * (H - 2 * my))
            _box_field(H, W, mx + e, y - 2, W - mx - e, y + 2, 0.2, att, steel)
    return (mx + e, my + e, W - mx - e, H - my - e)


def _container(rng, H, W, s, regime, att):
    """40 ft container side view: both side walls, corrugation, rails, posts, floor, cross members."""
    steel, wood = regime.mu("steel"), regime.mu("wood")
    x0, x1 = int(W * 0.03), int(W * 0.97)
    roof, floor = int(H * 0.08), int(H * 0.68)
    xs = np.arange(x1 - x0, dtype=np.float32) / s
    corr = 2 * 0.16 * (1 + 0.45 * np.sin(xs * 2 * np.pi / 27.0))  # two corrugated 1.6 mm walls
    for c in range(2):
        att[c, roof:floor, x0:x1] += steel[c] * corr[None, :]
    rail = max(2, int(16 * s))
    _box_field(H, W, x0, roof - rail // 2, x1, roof + rail // 2, 4.0, att, steel)  # top rail
    # the floor, seen along its width
    _box_field(H, W, x0, floor, x1, floor + max(2, int(12 * s)), 235 * 0.9, att, wood * np.float32(0.5))
    _box_field(H, W, x0, floor + int(12 * s), x1, floor + int(28 * s), 5.0, att, steel)  # bottom rail
    post = max(2, int(15 * s))
    for px in (x0, x1 - post):
        _box_field(H, W, px, roof - rail // 2, px + post, floor + int(28 * s), 12.0, att, steel)
    step = 30 * s
    for k in range(int((x1 - x0) / step)):
        cx = int(x0 + k * step)
        _box_field(H, W, cx, floor + int(12 * s), cx + max(1, int(1.2 * s)), floor + int(28 * s), 20.0, att, steel)
    if rng.random() < 0.6:  # on a trailer: chassis and wheels
        _box_field(H, W, x0, floor + int(28 * s), x1, floor + int(45 * s), 3.0, att, steel)
        wheel_y = floor + int(75 * s)
        for wx in (0.12, 0.19, 0.75, 0.82, 0.89):
            th = O.make_thing("wheel", W * wx, wheel_y, s, 0.0, 55,
                              [("plastic", O.ring(0, 0, 36, 12)), ("steel", O.ring(0, 0, 18, 6))])
            add_thing(att, th, regime)
    return (x0 + post, roof + rail // 2, x1 - post, floor)


def _cargo_goods(rng, H, W, s, regime, att, interior, n_types):
    x0, y0, x1, y1 = interior
    names = list(rng.choice(sorted(CARGO_GOODS), size=n_types, replace=False))
    cuts = np.sort(rng.uniform(x0, x1, n_types - 1)).astype(int) if n_types > 1 else np.array([], int)
    edges = [x0, *cuts.tolist(), x1]
    pallet = max(2, int(15 * s))
    for name, a, b in zip(names, edges[:-1], edges[1:]):
        mat, fill, cell = CARGO_GOODS[name]
        top = int(y0 + (y1 - y0) * rng.uniform(0.05, 0.5))
        h, w = y1 - pallet - top, b - a - 2
        if h <= 2 or w <= 2:
            continue
        tex = smooth_noise(rng, h, w, cell=max(2, int(cell * s / 4)))
        box_px = max(4, int(rng.uniform(40, 70) * s))
        gaps = np.ones((h, w), np.float32)
        gaps[:, ::box_px] = 0.6
        gaps[::box_px, :] = 0.6
        t = np.float32(235 * fill) * (0.6 + 0.8 * tex) * gaps
        mu = regime.mu(mat)
        for c in range(2):
            att[c, top:top + h, a + 1:a + 1 + w] += mu[c] * t
        _box_field(H, W, a + 1, y1 - pallet, b - 1, y1, 235 * 0.25, att, regime.mu("wood"))
    return names


def build_scene(kind: str, rng: np.random.Generator, size: tuple[int, int], classes: list[str],
                occlusion: str = "mixed", threat_rate: float = 1.0 - CLEAN, lookalike_rate: float = 0.5) -> Scene:
    if kind not in KINDS:
        raise XwbError(f"unknown scan kind {kind!r} (choose {', '.join(KINDS)})")
    H, W = size
    mh, mw = MIN_SIZE[kind]
    if mh > H or mw > W:
        raise XwbError(f"size {H}x{W} is too small for a {kind} scan (at least {mh}x{mw})")
    regime = REGIMES["mv" if kind == "cargo" else "kv"]
    det = Detector(i0=(30000.0, 22000.0)) if kind == "cargo" else Detector()
    s = W / CM_ACROSS[kind]
    att = np.zeros((2, H, W), dtype=np.float32)
    scene = Scene(kind, regime, det, att)
    if kind == "cargo":
        interior = _container(rng, H, W, s, regime, att)
        scene.goods = set(_cargo_goods(rng, H, W, s, regime, att, interior, int(rng.integers(1, 4))))
    else:
        interior = _bag(rng, H, W, s, regime, att, kind)
        n = int(rng.integers(6, 16)) if kind == "baggage" else int(rng.integers(2, 7))
        names = list(O.CLUTTER)
        weights = np.array([O.CLUTTER[k][1] for k in names], float)
        for _ in range(n):
            name = names[rng.choice(len(names), p=weights / weights.sum())]
            th = O.CLUTTER[name][0](rng, *_inside(rng, interior), s, rng.uniform(0, np.pi))
            scene.things.append(th)
            if CLUTTER_GOODS.get(name):
                scene.goods.add(CLUTTER_GOODS[name])
    _place_threats(scene, rng, interior, s, classes, occlusion, threat_rate, lookalike_rate)
    return scene


def _inside(rng, interior) -> tuple[float, float]:
    x0, y0, x1, y1 = interior
    return rng.uniform(x0, x1), rng.uniform(y0, y1)


def _place_threats(scene, rng, interior, s, classes, occlusion, threat_rate, lookalike_rate):
    contraband = [c for c in classes if c in O.CONTRABAND]
    benign = [c for c in classes if c in O.THREATS and c not in O.CONTRABAND]
    picks: list[str] = []
    if contraband and rng.random() < threat_rate:
        picks += list(rng.choice(contraband, size=1 + int(rng.random() < 0.3)))
    if benign and rng.random() < lookalike_rate:
        picks.append(str(rng.choice(benign)))
    base = scene.attenuation()[1]
    for name in picks:
        level = str(rng.choice(OCCLUSIONS)) if occlusion == "mixed" else occlusion
        cands = [_inside(rng, interior) for _ in range(12)]
        load = [float(base[int(y), int(x)]) for x, y in cands]
        order = np.argsort(load)
        pick = {"easy": order[0], "hard": order[len(order) // 2], "hidden": order[-1]}[level]
        cx, cy = cands[pick]
        th = O.THREATS[name](rng, cx, cy, s, rng.uniform(0, 2 * np.pi))
        scene.things.append(th)
        if level == "hidden":  # something dense on top of it
            cover = O.make_thing("cover", cx, cy, s, rng.uniform(0, np.pi), 14,
                                 [("steel", O.rounded_box(0, 0, 22, 14, rng.uniform(0.3, 0.8), 1))])
            scene.things.append(cover)
        elif level == "hard":
            cover = O.clothes(rng, cx + rng.uniform(-5, 5) * s, cy, s, rng.uniform(0, np.pi))
            scene.things.append(cover)
        scene.occlusion.append(level)
