"""TIFF scans: one page (grey, or channels as samples), two pages of one size (a dual-energy pair: high, low),
or a stack of pages (slices of a volume). Uncompressed files are memory-mapped.

The axes come from tifffile's series (``YX``, ``YXS``, ``SYX``, ImageJ/OME ``ZYX``/``ZCYX``, ...). Pages with
no name for their axis (``I``/``Q``: a plain multi-page file) are the one guess: two are high and low energy,
three or more are slices, and ``assumed`` says so (``xwb add --axes yxc`` reads them as channels instead).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.scan import Scan, ScanInfo, info_from_array

NAME = "tiff"
LABEL = "TIFF"
SUFFIXES = {".tif": "tiff", ".tiff": "tiff"}
_CHANNEL, _SLICE = set("SC"), set("Z")


def sniff(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _plan(path: Path, letters: str, shape: tuple[int, ...], axes: str | None) -> tuple[str, list[int], str]:
    """(our axes, the order that puts the file's dimensions into them, what was assumed) for a series."""
    keep = [(ch, i) for i, ch in enumerate(letters) if ch in "YX" or shape[i] > 1]
    if [ch for ch, _ in keep if ch in "YX"] != ["Y", "X"]:
        raise XwbError(f"{path}: a TIFF with axes {letters} {shape}; xwb reads images with Y before X")
    extra = [(ch, i) for ch, i in keep if ch not in "YX"]
    if len(extra) > 2:
        raise XwbError(f"{path}: a TIFF with axes {letters} {shape}; xwb reads yx, yxc, zyx or zyxc")
    y, x = (i for ch, i in keep if ch in "YX")
    assumed = ""
    if axes:  # the user said what the file's extra dimensions are, in the file's order
        said = [a for a in axes if a in "zc"]
        if len(said) != len(extra):
            raise XwbError(f"{path}: --axes {axes} does not fit this TIFF ({letters} {shape})")
        kinds = dict(zip([i for _, i in extra], said))
    else:
        kinds = {}
        for ch, i in extra:
            if ch in _CHANNEL:
                kinds[i] = "c"
            elif ch in _SLICE:
                kinds[i] = "z"
            elif len(extra) == 1 and shape[i] == 2:
                kinds[i] = "c"  # two pages of one size: a dual-energy pair (high, low), xwb's documented rule
            else:
                kinds[i] = "z" if "z" not in kinds.values() else "c"
                assumed = (f"{shape[i]} pages of one size read as slices (zyx); say --axes yxc if they are "
                           "channels") if kinds[i] == "z" else assumed
        if sorted(kinds.values()) == ["z", "z"]:
            raise XwbError(f"{path}: a TIFF with two slice axes ({letters} {shape}); xwb reads one volume")
    z = [i for i, k in kinds.items() if k == "z"]
    c = [i for i, k in kinds.items() if k == "c"]
    ours = ("z" if z else "") + "yx" + ("c" if c else "")
    return ours, [*z, y, x, *c], assumed


def _open(path: Path, axes: str | None):
    import tifffile

    tf = tifffile.TiffFile(path)
    if not tf.pages or not tf.series:
        tf.close()
        raise XwbError(f"{path}: TIFF has no image")
    s = tf.series[0]
    letters, shape = s.get_axes(False).upper(), tuple(s.get_shape(False))
    pages = None
    same = [x for x in tf.series if x.shape == s.shape and x.dtype == s.dtype and x.axes.upper() == "YX"]
    if len(tf.series) > 1 and len(same) == len(tf.series):  # one image per write: pages, in the file's order
        pages = [x.pages[0] for x in tf.series]
        letters, shape = "I" + letters, (len(pages), *shape)
    try:
        plan = _plan(path, letters, shape, axes)
    except XwbError:
        tf.close()
        raise
    if not axes and not plan[2] and letters.endswith("SYX") and shape[-3] == 3 and \
            getattr(tf.pages[0], "planarconfig", 1) == 2:  # three planes of one page: colour or three slices?
        plan = (*plan[:2], "3 planes read as channels (yxc); say --axes zyx if they are slices")
    return tf, s, pages, shape, plan


def read(path: Path, mmap: bool = True, axes: str | None = None) -> Scan:
    import tifffile

    tf, s, pages, shape, (ours, order, assumed) = _open(path, axes)
    with tf:
        meta = _xwb_meta(tf.pages[0].description)
        a = np.stack([p.asarray() for p in pages]) if pages else None
        if mmap and a is None:
            try:
                a = tifffile.memmap(path, series=0, mode="r")
            except Exception:
                a = None
        if a is None:
            a = s.asarray()
    a = a.reshape(shape)  # the series' full shape, length-1 axes included (memmap and asarray squeeze them)
    rest = [i for i in range(len(shape)) if i not in order]  # only length-1 axes: dropped by the reshape
    a = np.transpose(a, order + rest).reshape([shape[i] for i in order])  # a view: no pixel is copied
    return Scan(a, info_from_array(a, "tiff", ours, "dual" if ours.endswith("c") and a.shape[-1] == 2 else None,
                                   assumed=assumed), path, meta)


def info(path: Path, axes: str | None = None) -> ScanInfo:
    tf, s, _, shape, (ours, order, assumed) = _open(path, axes)
    with tf:
        dims = dict(zip(ours, (shape[i] for i in order)))
        c = dims.get("c", 1)
        layout = "gray" if c == 1 else "dual" if c == 2 else "rgb" if c == 3 else "multi"
        return ScanInfo(dims["x"], dims["y"], c, s.dtype.itemsize * 8, layout, "tiff", ours, dims.get("z", 1),
                        signed=s.dtype.kind == "i", assumed=assumed)


def _xwb_meta(desc: str | None) -> dict:
    """The ``xwb`` JSON that xwb writes into a TIFF's ImageDescription (I0, dark, regime)."""
    try:
        d = json.loads(desc) if desc and desc.lstrip().startswith("{") else {}
    except ValueError:
        return {}
    meta = d.get("xwb", {}) if isinstance(d, dict) else {}
    return meta if isinstance(meta, dict) else {}


def write(path: str | Path, pixels: np.ndarray, compress: bool = False, meta: dict | None = None,
          axes: str | None = None) -> None:
    """Write a scan at native depth: ``yxc`` as planes (high, low), ``zyx`` as one page per slice."""
    import tifffile

    a = np.asarray(pixels)
    axes = axes or ("yx" if a.ndim == 2 else "yxc")
    kwargs: dict = {"compression": "zlib"} if compress else {}
    if meta:
        kwargs.update(description=json.dumps({"xwb": meta}, sort_keys=True), metadata=None)
    if axes == "yxc":
        tifffile.imwrite(path, np.ascontiguousarray(np.moveaxis(a, -1, 0)),
                         photometric="minisblack", planarconfig="separate", **kwargs)
    elif axes == "zyx":
        tifffile.imwrite(path, a, photometric="minisblack", **({"metadata": {"axes": "ZYX"}} | kwargs))
    else:
        tifffile.imwrite(path, a, photometric="minisblack", **kwargs)
