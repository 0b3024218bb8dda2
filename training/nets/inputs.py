"""What a model was trained on, and whether a scan is like it: the input contract of a model version.

A model trained on 16-bit dual-energy counts sees log-attenuation; fed an 8-bit pseudo-colour picture it
answers with confident nonsense. So every version records the layout and bit depth of its training scans
(``spec["input"]``), and every path that feeds it a scan (predict, prelabel, evaluate, manifest-check) asks
``check`` first: the scan is used as it is, converted where a sound conversion exists (the high-energy
channel of a dual-energy scan for a single-energy model), or refused with both sides named.
"""
from __future__ import annotations

from dataclasses import dataclass

from datasets.calibration import full_scale
from datasets.errors import XwbError

COUNTS_CHANNELS = ("high", "low", "diff")  # log-attenuation of detector counts (grey or dual-energy scans)
COLOUR_CHANNELS = ("red", "green", "blue")  # a pseudo-colour picture, 0 = white (nothing in the beam)
AUTO_CHANNELS = {"dual": ["high", "low", "diff"], "gray": ["high"], "rgb": list(COLOUR_CHANNELS)}
MATERIALS = ("m_foam", "m_leaf", "m_paper", "m_water", "m_dense", "m_mineral", "m_glass", "m_metal")
CT_CHANNELS = ("soft", "peak", "materials", *MATERIALS)  # of CT density only (model_code.input_channels)
AUTO_CT = {"dual": ["high", "low", "diff", "soft", "peak"], "gray": ["high", "soft", "peak"]}


@dataclass(frozen=True)
class InputKind:
    """The layout and bit depth of scans, e.g. 16-bit dual; what a model was trained on or a scan is."""

    layout: str      # gray | dual | rgb | multi
    bit_depth: int
    volume: bool = False  # a CT volume (z, y, x), not a 2-D scan

    def __str__(self) -> str:
        what = {"dual": "dual-energy", "gray": "single-energy grey", "rgb": "pseudo-colour (RGB)",
                "multi": "multi-channel"}.get(self.layout, self.layout)
        return f"{self.bit_depth}-bit {what}{' CT' if self.volume else ''}"

    @property
    def full_scale(self) -> float:
        """The open-beam level when a file says nothing (``datasets.calibration.full_scale``)."""
        return full_scale(self.bit_depth)


def of_spec(spec: dict) -> InputKind:
    """The model's training input; versions logged before this was recorded were trained on 16-bit counts."""
    inp = spec.get("input")
    if isinstance(inp, dict):
        return InputKind(str(inp["layout"]), int(inp["bit_depth"]), bool(inp.get("volume", False)))
    raw = int(spec["preprocess"].get("raw_channels", 2))
    return InputKind("dual" if raw >= 2 else "gray", 16)


def resolve_channels(requested: str | list[str], kind: InputKind, where: str = "data.channels") -> list[str]:
    """The model's input channels for scans of ``kind``: ``auto`` picks what fits; an explicit list must fit."""
    if kind.layout not in AUTO_CHANNELS:
        raise XwbError(f"the project's scans are {kind}: xwb trains on grey, dual-energy or RGB scans")
    if requested == "auto" or requested == ["auto"]:
        return list((AUTO_CT if kind.volume and kind.layout in AUTO_CT else AUTO_CHANNELS)[kind.layout])
    ct = [c for c in requested if c in CT_CHANNELS]
    if ct and not kind.volume:
        raise XwbError(f"{where}: {', '.join(ct)} are channels of CT volumes; the project's scans are {kind}")
    chans: list[str] = []
    for c in requested:
        chans += list(COLOUR_CHANNELS) if c == "rgb" else list(MATERIALS) if c == "materials" else [c]
    colour = [c for c in chans if c in COLOUR_CHANNELS]
    counts = [c for c in chans if c in COUNTS_CHANNELS]
    if kind.layout == "rgb" and counts:
        raise XwbError(f"{where}: {', '.join(counts)} need detector counts, but the project's scans are {kind}; "
                       f"use rgb (or auto)")
    if kind.layout != "rgb" and colour:
        raise XwbError(f"{where}: rgb needs pseudo-colour scans, but the project's scans are {kind}; "
                       f"use {', '.join(AUTO_CHANNELS[kind.layout])} (or auto)")
    if kind.layout == "gray" and any(c in ("low", "diff") for c in chans):
        raise XwbError(f"{where}: low and diff need dual-energy scans, but the project's scans are {kind}; "
                       f"use high (or auto)")
    return chans


def raw_channels(channels: list[str]) -> int:
    """How many channels of the stored scan the model reads."""
    if any(c in COLOUR_CHANNELS for c in channels):
        return 3
    return 2 if any(c in ("low", "diff") for c in channels) else 1


def check(spec: dict, scan: InputKind, model: str = "the model") -> str:
    """'' when ``scan`` is what the model was trained on; a note when it is converted; XwbError otherwise.

    The one conversion: a model that reads only the high-energy channel takes grey and dual-energy scans
    of its bit depth alike (the high channel of a pair is a single-energy scan)."""
    want = of_spec(spec)
    if scan == want:
        return ""
    needs = int(spec["preprocess"].get("raw_channels", 2))
    counts = ("gray", "dual")
    if needs == 1 and want.layout in counts and scan.layout in counts and scan.bit_depth == want.bit_depth \
            and scan.volume == want.volume:
        return "its high-energy channel used" if scan.layout == "dual" else "read as the high-energy channel"
    if want.volume != scan.volume:
        what = ("CT volumes", "a 2-D scan") if want.volume else ("2-D scans", "a CT volume")
        raise XwbError(f"{model} reads {what[0]} ({want}); this scan is {what[1]} ({scan})")
    raise XwbError(f"{model} was trained on {want} scans; this scan is {scan}")


def uniform(kinds: dict[InputKind, str], what: str = "the train and val scans") -> InputKind:
    """The one kind of scans a model is trained on; a mix is refused with an example of each."""
    if len(kinds) == 1:
        return next(iter(kinds))
    listed = "; ".join(f"{k} (e.g. {ex})" for k, ex in sorted(kinds.items(), key=lambda t: str(t[0])))
    raise XwbError(f"{what} are of {len(kinds)} kinds: {listed}; a model is trained on one kind of scan "
                   f"(move the others to another project or split)")
