"""Regions: labelled areas of a scan, as polygons or bounding-box-cropped masks; of a volume, as
bounding-box-cropped voxel masks or 3-D boxes.

One rasteriser serves every consumer (training masks, label-map export, COCO
export, digest): pycocotools' polygon rasteriser. Using it everywhere means
our masks and ``COCO.annToMask`` agree pixel for pixel, so a model trained
here and one trained on our COCO export see the same labels.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
from pycocotools import mask as cocomask

from datasets.errors import XwbError

STATES = ("proposal", "accepted", "rejected")  # rejected: a proposal someone turned down (kept as a false alarm)
IGNORE_LABEL = 255  # label-map value of "don't care" pixels (the VOC convention): no loss, no metric there
IGNORE_RGB = (224, 224, 192)  # how "don't care" areas are drawn (VOC's colour), in label maps and the workbench


@dataclass
class Region:
    """A labelled area. Exactly one of ``polygon`` / ``mask`` (2-D scans) / ``voxels`` / ``box`` (volumes)
    is set.

    polygon: float64 array (N, 2) of x, y in image pixel coordinates (pixel
        centres at integer + 0.5 follow the COCO convention).
    mask: bool array (h, w), cropped to its bounding box, whose top-left
        corner sits at image pixel (``mask_x``, ``mask_y``).
    voxels: bool array (d, h, w), cropped to its box, whose first voxel sits at (``mask_x``, ``mask_y``,
        ``mask_z``) of the volume.
    box: float64 (x0, y0, z0, x1, y1, z1) in voxel coordinates, the far corner exclusive (a 3-D box).
    source: ``manual``, ``synthetic``, ``import:<fmt>`` or ``model:<name>/<version>``.
    decided_by / decided_at: who accepted or rejected a proposal, and when.
    """

    class_id: int
    polygon: np.ndarray | None = None
    mask: np.ndarray | None = None
    mask_x: int = 0
    mask_y: int = 0
    state: str = "accepted"
    source: str = "manual"
    score: float | None = None
    author: str = ""
    id: int | None = None
    image_id: int | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    decided_by: str = ""
    decided_at: float | None = None
    shape: dict | None = None   # the drawing tool's own shape, e.g. {"type": "circle", "points": [[x, y], [x, y]]}
    group: int | None = None    # regions of one image with the same group are parts of one object
    ignore: bool = False           # a "don't care" area: left out of the loss and the metrics
    voxels: np.ndarray | None = None
    box: np.ndarray | None = None
    mask_z: int = 0

    def __post_init__(self) -> None:
        given = [g is not None for g in (self.polygon, self.mask, self.voxels, self.box)]
        if sum(given) != 1:
            raise XwbError("a region needs exactly one of polygon, mask, voxels or box")
        if self.voxels is not None:
            v = np.asarray(self.voxels)
            if v.ndim != 3:
                raise XwbError(f"voxels must be 3-D (d, h, w), got shape {v.shape}")
            self.voxels, (self.mask_x, self.mask_y, self.mask_z) = tight_voxels(
                v.astype(bool, copy=False), (self.mask_x, self.mask_y, self.mask_z))
        elif self.box is not None:
            b = np.asarray(self.box, np.float64).ravel()
            if b.shape != (6,) or not np.isfinite(b).all() or (b[3:] <= b[:3]).any():
                raise XwbError(f"a 3-D box is (x0, y0, z0, x1, y1, z1) with x1 > x0, y1 > y0, z1 > z0; got "
                               f"{b.tolist()}")
            self.box = b
        elif self.polygon is not None:
            p = np.asarray(self.polygon, dtype=np.float64)
            if p.ndim != 2 or p.shape[1] != 2:
                raise XwbError(f"polygon must be (N, 2) points, got shape {p.shape}")
            if len(p) < 3:
                raise XwbError(f"polygon has {len(p)} points; a region needs at least 3")
            if not np.isfinite(p).all():
                raise XwbError("polygon has non-finite coordinates")
            self.polygon = p
        else:
            m = np.asarray(self.mask)
            if m.ndim != 2:
                raise XwbError(f"mask must be 2-D, got shape {m.shape}")
            # canonical form: cropped to the tight box, so equal pixels mean equal regions
            self.mask, self.mask_x, self.mask_y = tight_mask(m.astype(bool, copy=False), self.mask_x, self.mask_y)
        if self.state not in STATES:
            raise XwbError(f"region state must be one of {STATES}, got {self.state!r}")

    @property
    def kind(self) -> str:
        return ("polygon" if self.polygon is not None else "mask" if self.mask is not None
                else "voxels" if self.voxels is not None else "box3d")

    @property
    def is_3d(self) -> bool:
        """A region of a volume (voxels or a 3-D box): 2-D consumers (rasterising, 2-D exports) refuse it."""
        return self.voxels is not None or self.box is not None

    def _refuse_3d(self, what: str) -> None:
        if self.is_3d:
            name = "region" if self.id is None else f"region {self.id}"
            raise XwbError(f"{name} is a 3-D {self.kind} region of a volume; {what} takes 2-D regions")

    def bbox3d(self) -> tuple[float, float, float, float, float, float]:
        """(x0, y0, z0, x1, y1, z1) in voxels, far corner exclusive; a 2-D region spans z 0..1."""
        if self.box is not None:
            return tuple(float(v) for v in self.box)  # type: ignore[return-value]
        if self.voxels is not None:
            d, h, w = self.voxels.shape
            return (float(self.mask_x), float(self.mask_y), float(self.mask_z),
                    float(self.mask_x + w), float(self.mask_y + h), float(self.mask_z + d))
        x0, y0, x1, y1 = self.bbox()
        return x0, y0, 0.0, x1, y1, 1.0

    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in image pixels; x1/y1 exclusive for masks. Of a 3-D region: its box seen along z."""
        if self.is_3d:
            x0, y0, _, x1, y1, _ = self.bbox3d()
            return x0, y0, x1, y1
        if self.polygon is not None:
            x0, y0 = self.polygon.min(axis=0)
            x1, y1 = self.polygon.max(axis=0)
            return float(x0), float(y0), float(x1), float(y1)
        h, w = self.mask.shape
        return float(self.mask_x), float(self.mask_y), float(self.mask_x + w), float(self.mask_y + h)

    def pixel_box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Integer (x0, y0, x1, y1) covering every pixel the region can set, clipped to the image."""
        x0, y0, x1, y1 = self.bbox()
        return (max(0, int(np.floor(x0)) - 1), max(0, int(np.floor(y0)) - 1),
                min(width, int(np.ceil(x1)) + 1), min(height, int(np.ceil(y1)) + 1))

    def area(self) -> float:
        """Pixels of a 2-D region; voxels of a 3-D one."""
        if self.voxels is not None:
            return float(self.voxels.sum())
        if self.box is not None:
            x0, y0, z0, x1, y1, z1 = self.bbox3d()
            return float((x1 - x0) * (y1 - y0) * (z1 - z0))
        if self.polygon is not None:
            x, y = self.polygon[:, 0], self.polygon[:, 1]
            return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2.0)
        return float(self.mask.sum())

    def crop_mask(self, width: int, height: int) -> tuple[np.ndarray, int, int]:
        """The region's pixels as a bool mask cropped to its box: (mask, x0, y0)."""
        self._refuse_3d("a 2-D mask")
        if self.mask is not None:
            return self.mask, self.mask_x, self.mask_y
        x0, y0, x1, y1 = self.pixel_box(width, height)
        return rasterize_polygon(self.polygon - (x0, y0), x1 - x0, y1 - y0), x0, y0

    def to_mask(self, width: int, height: int) -> np.ndarray:
        """The region as a full-image bool mask (only for small images / tests)."""
        out = np.zeros((height, width), dtype=bool)
        paint(out, self, True)
        return out

    def copy(self, **changes) -> Region:
        return replace(self, **changes)

    def content_key(self) -> bytes:
        """Bytes that identify the region's labelling content (for digests)."""
        if self.polygon is not None:
            geom = b"P" + self.polygon.astype("<f8").tobytes()
        elif self.voxels is not None:
            geom = b"V" + np.array([self.mask_x, self.mask_y, self.mask_z, *self.voxels.shape], "<i8").tobytes() \
                + np.packbits(self.voxels).tobytes()
        elif self.box is not None:
            geom = b"B" + self.box.astype("<f8").tobytes()
        else:
            geom = b"M" + np.array([self.mask_x, self.mask_y, *self.mask.shape], "<i8").tobytes() \
                + np.packbits(self.mask).tobytes()
        return f"{self.class_id}|{self.state}|{'I|' if self.ignore else ''}".encode() + geom

    def exact_shape(self, width: int, height: int) -> dict | None:
        """The tool's shape when the region still is exactly that shape (not edited since); else None."""
        sh = self.shape
        if not sh:
            return None
        kind, pts = sh.get("type"), np.asarray(sh.get("points", []), np.float64)
        if kind in ("rectangle", "circle", "ellipse") and self.polygon is not None and pts.shape == (2, 2):
            made = shape_polygon(kind, pts, width, height)
            return sh if made.shape == self.polygon.shape and np.array_equal(made, self.polygon) else None
        if kind == "mask" and self.mask is not None and pts.shape == (2, 2):
            return sh if tuple(corner_pixels(pts)[0]) == (self.mask_x, self.mask_y) else None
        return None


def corner_pixels(points) -> np.ndarray:
    """The pixels a mask's corner points fall in (labelme's ``mask`` shapes: fractions within the pixel).
    A corner a hair below a pixel edge (254.99999999999997, float arithmetic of the writer) is on the edge."""
    return np.floor(np.asarray(points, np.float64) + 1e-6).astype(int)


CIRCLE_VERTICES = 64


def shape_polygon(kind: str, points: np.ndarray, width: int, height: int) -> np.ndarray:
    """The polygon a labelme rectangle (two corners), circle (centre, a point on the rim) or CVAT ellipse
    (centre, radii) stands for;
    one definition, so that a stored shape can be recognised as unedited on export."""
    p = np.asarray(points, np.float64)
    if kind == "rectangle":
        (x0, y0), (x1, y1) = p.min(axis=0), p.max(axis=0)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    if kind == "circle":
        (cx, cy), (px, py) = p[0], p[1]
        r = float(np.hypot(px - cx, py - cy))
        t = np.linspace(0, 2 * np.pi, CIRCLE_VERTICES, endpoint=False)
        return np.clip(np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1), 0, [width, height])
    if kind == "ellipse":  # CVAT: centre and the two radii, axis-aligned
        (cx, cy), (rx, ry) = p[0], p[1]
        t = np.linspace(0, 2 * np.pi, CIRCLE_VERTICES, endpoint=False)
        return np.clip(np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1), 0, [width, height])
    raise XwbError(f"no polygon for shape type {kind!r}")


def rasterize_polygon(poly: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bool mask (height, width) of a polygon, with COCO's rasteriser."""
    if width <= 0 or height <= 0:
        return np.zeros((max(height, 0), max(width, 0)), dtype=bool)
    rles = cocomask.frPyObjects([np.asarray(poly, dtype=np.float64).ravel().tolist()], height, width)
    return cocomask.decode(rles)[:, :, 0].astype(bool)


def paint(target: np.ndarray, region: Region, value, x: int = 0, y: int = 0) -> None:
    """Paint a region into ``target`` in place, clipped to its bounds.

    ``target`` covers the image from pixel (``x``, ``y``): a whole image by
    default, or a crop of one (training tiles) without copying the region.
    """
    h, w = target.shape[:2]
    m, x0, y0 = region.crop_mask(x + w, y + h)
    x0, y0 = x0 - x, y0 - y
    # clip the mask to the target
    sx0, sy0 = max(0, -x0), max(0, -y0)
    ex, ey = min(m.shape[1], w - x0), min(m.shape[0], h - y0)
    if ex <= sx0 or ey <= sy0:
        return
    sub = m[sy0:ey, sx0:ex]
    target[y0 + sy0:y0 + ey, x0 + sx0:x0 + ex][sub] = value


def label_map(regions: list[Region], width: int, height: int, order: str = "area") -> np.ndarray:
    """A uint8 map of class ids (0 = background) from regions.

    Overlaps: with ``order="area"`` smaller regions are painted last, so a small
    object inside a large one stays visible (the usual choice for semantic maps).
    """
    out = np.zeros((height, width), dtype=np.uint8)
    regs = sorted(regions, key=lambda r: -r.area()) if order == "area" else list(regions)
    for r in regs:
        if not r.ignore:
            paint(out, r, r.class_id)
    for r in regions:  # "don't care" areas last, over everything
        if r.ignore:
            paint(out, r, IGNORE_LABEL)
    return out


# -- lossless mask codec for the store -------------------------------------------------
def encode_mask(mask: np.ndarray) -> bytes:
    """Bit-pack and deflate a bool mask; shape is stored alongside (lossless)."""
    return zlib.compress(np.packbits(mask.astype(bool), axis=None).tobytes(), 6)


def decode_mask(blob: bytes, height: int, width: int, depth: int | None = None) -> np.ndarray:
    """The (height, width) mask, or the (depth, height, width) voxels when ``depth`` is given."""
    bits = np.frombuffer(zlib.decompress(blob), dtype=np.uint8)
    shape = (height, width) if depth is None else (depth, height, width)
    return np.unpackbits(bits, count=int(np.prod(shape))).reshape(shape).astype(bool)


def tight_voxels(v: np.ndarray, at: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Crop bool voxels (d, h, w) to their box; returns (voxels, (x, y, z)). Empty voxels raise."""
    zs, ys, xs = (np.flatnonzero(v.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1)))
    if len(zs) == 0:
        raise XwbError("voxel mask is empty")
    x0, y0, z0 = at
    if (zs[0], ys[0], xs[0]) == (0, 0, 0) and (zs[-1], ys[-1], xs[-1]) == tuple(n - 1 for n in v.shape):
        return v, (x0, y0, z0)
    crop = v[zs[0]:zs[-1] + 1, ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1].copy()
    return crop, (x0 + int(xs[0]), y0 + int(ys[0]), z0 + int(zs[0]))


def tight_mask(mask: np.ndarray, x0: int = 0, y0: int = 0) -> tuple[np.ndarray, int, int]:
    """Crop a bool mask to its bounding box; returns (mask, x, y). Empty masks raise."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(ys) == 0:
        raise XwbError("mask is empty")
    if ys[0] == 0 and xs[0] == 0 and ys[-1] == mask.shape[0] - 1 and xs[-1] == mask.shape[1] - 1:
        return mask, x0, y0
    return mask[ys[0]:ys[-1] + 1, xs[0]:xs[-1] + 1].copy(), x0 + int(xs[0]), y0 + int(ys[0])
