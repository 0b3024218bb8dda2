"""``xwb synth``: write a complete synthetic project (scans, regions, tags, manifest, splits).

The project is built in a temporary folder beside OUT and renamed into place
at the end, so a failure leaves nothing behind. The same seed gives
byte-identical scans: scan i draws from its own generator seeded (seed, i).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.safefs import dir_mode
from datasets.scanio import write_tiff
from datasets.splits import assign_splits
from datasets.synth import CLEAN
from datasets.synth import objects as O
from datasets.synth.scenes import DEFAULT_SIZE, KINDS, OCCLUSIONS, Scene, build_scene
from datasets.taxonomy import Taxonomy, default_taxonomy_path

CLASS_TAGS = {"firearm": ["weapon"], "knife": ["weapon"], "drugs": ["narcotics"], "cigarettes": ["tobacco"],
              "ivory": ["wildlife"], "solid_waste": ["waste"], "currency": ["cash"]}
RENDERS = ("counts", "pseudo-colour", "single-energy")  # how the scans are written, see ``_write_scan``
MIN_VISIBLE = 0.2  # a threat less than 20 % visible is taken out of the scene (no one could label it)


@dataclass
class SynthScan:
    counts: np.ndarray  # (H, W, 2) uint16
    regions: list[Region]
    tags: list[str]
    manifest: list[str]
    truth: dict
    meta: dict


def make_scan(kind: str, seed: int, index: int, size: tuple[int, int], classes: list[str],
              occlusion: str = "mixed", undeclared: float = 0.2, clean: float = CLEAN) -> SynthScan:
    rng = np.random.default_rng([seed, index])
    scene = build_scene(kind, rng, size, classes, occlusion, threat_rate=1.0 - clean)
    att = scene.attenuation()
    regions, present, levels = _visible_regions(scene, att)
    counts = scene.render(rng, att)
    goods = sorted(scene.goods)
    dropped = []
    if goods and rng.random() < undeclared:
        dropped = [str(rng.choice(goods))]
    manifest = [g for g in goods if g not in dropped]
    contraband = sorted({c for c in present if c in O.CONTRABAND})
    tags = sorted({t for c in contraband for t in CLASS_TAGS[c]} | ({"contraband"} if contraband else set()))
    if dropped:
        tags.append("undeclared_goods")
    if not contraband:
        tags.append("clear")
    truth = {"kind": kind, "goods": goods, "undeclared_goods": dropped, "contraband": contraband,
             "objects": present, "occlusion": levels}
    meta = {"regime": scene.regime.name, "energies": ["high", "low"], **scene.detector.meta(), "synthetic": True}
    return SynthScan(counts, regions, sorted(set(tags)), manifest, truth, meta)


def _visible_regions(scene: Scene, att: np.ndarray):
    """Masks of what removing each threat would change; threats mostly hidden are removed first."""
    threats = [k for k, th in enumerate(scene.things) if th.is_threat]
    levels = list(scene.occlusion)
    keep, masks = [], []
    for n, k in enumerate(threats):
        vis, x, y = scene.visible_mask(k, att)
        fp = scene.things[k].footprint().sum()
        if vis.sum() < max(1, MIN_VISIBLE * fp):
            continue
        keep.append(n)
        masks.append((k, vis, x, y))
    if len(keep) < len(threats):  # take out the hidden ones and measure again
        drop = {threats[n] for n in range(len(threats)) if n not in keep}
        scene.things = [th for k, th in enumerate(scene.things) if k not in drop]
        scene.occlusion = [levels[n] for n in keep]
        att[...] = scene.attenuation()
        return _visible_regions(scene, att)
    regions, present = [], []
    for k, vis, x, y in masks:
        name = scene.things[k].kind
        regions.append((name, vis, x, y))
        present.append(name)
    return regions, present, levels


def _write_scan(folder: Path, stem: str, s: SynthScan, render: str) -> str:
    """Write one scan the way a scanner or an archive would hand it over; returns its relative path.

    counts: 16-bit dual-energy TIFF with the scanner's I0 and dark level (xwb's own format);
    pseudo-colour: the 8-bit RGB material picture a screening console shows, as PNG (how public datasets
    such as SIXray and many vendor exports ship scans), no scanner facts;
    single-energy: the high-energy channel alone as a 16-bit grey TIFF without scanner facts (a vendor file).
    """
    if render == "pseudo-colour":
        import cv2

        from datasets.display import material_rgb

        i0 = s.meta.get("i0", [65535.0, 65535.0])
        rgb = material_rgb(s.counts[..., 0], s.counts[..., 1], i0=tuple(i0[:2]), dark=float(s.meta.get("dark", 0)),
                           regime=s.meta.get("regime", "kv"))
        rel = stem + ".png"
        if not cv2.imwrite(str(folder / rel), rgb[..., ::-1]):
            raise XwbError(f"{folder / rel}: cannot write PNG")
        return rel
    rel = stem + ".tiff"
    if render == "single-energy":
        write_tiff(folder / rel, np.ascontiguousarray(s.counts[..., 0]))
    else:
        write_tiff(folder / rel, s.counts, meta=s.meta)
    return rel


def check_out_and_classes(out: Path, classes: list[str] | None, makes: Sequence[str], tax: Taxonomy,
                          who: str = "the generator") -> list[str]:
    """OUT must be new or empty; the classes asked for (default: those of ``makes`` the taxonomy has) must be
    ones the generator makes and the taxonomy knows. Returns the classes to generate."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise XwbError(f"{out}: exists and is not empty; choose a new folder")
    classes = list(classes) if classes else [c for c in makes if tax.has_name(c)]
    bad = [c for c in classes if c not in makes]
    if bad:
        raise XwbError(f"unknown class(es) {', '.join(bad)}: {who} makes {', '.join(makes)}")
    missing = [c for c in classes if not tax.has_name(c)]
    if missing:
        raise XwbError(f"class(es) {', '.join(missing)} not in the taxonomy")
    return classes


@contextlib.contextmanager
def staged_project(out: Path, tax: Taxonomy) -> Iterator[Project]:
    """A new project built in a hidden folder beside OUT and renamed into place when the block ends; on any
    failure nothing is left behind (a full disk: one line naming OUT and the cause)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, dir_mode())  # mkdtemp makes 0700; the project folder gets what the umask allows
    try:
        p = Project.create(tmp, name=out.name, taxonomy=tax)
        yield p
        p.close()
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise XwbError(f"{out}: cannot write the synthetic project ({e.strerror or e}); nothing was kept") from None
        raise


def synth_project(out: str | Path, kind: str, count: int, seed: int = 0, size: tuple[int, int] | None = None,
                  occlusion: str = "mixed", classes: list[str] | None = None, undeclared: float = 0.2,
                  unlabelled: int = 0, taxonomy: Taxonomy | None = None,
                  progress: Callable[[int, int], None] | None = None, render: str = "counts",
                  clean: float = CLEAN) -> Path:
    out = Path(out)
    if render not in RENDERS:
        raise XwbError(f"unknown render {render!r} (choose {', '.join(RENDERS)})")
    if kind not in KINDS:
        raise XwbError(f"unknown kind {kind!r} (choose {', '.join(KINDS)})")
    if count <= 0:
        raise XwbError(f"--count must be at least 1, got {count}")
    if occlusion not in (*OCCLUSIONS, "mixed"):
        raise XwbError(f"unknown occlusion {occlusion!r} (choose {', '.join(OCCLUSIONS)}, mixed)")
    if not 0 <= undeclared <= 1:
        raise XwbError(f"--undeclared must be a share between 0 and 1, got {undeclared}")
    if not 0 <= clean <= 1:
        raise XwbError(f"--clean must be a share between 0 and 1, got {clean}")
    tax = taxonomy or Taxonomy.load(default_taxonomy_path())
    classes = check_out_and_classes(out, classes, list(O.THREATS), tax)
    size = size or DEFAULT_SIZE[kind]
    build_scene(kind, np.random.default_rng(0), size, [], occlusion="easy")  # size check before writing
    with staged_project(out, tax) as p:
        tmp = p.folder
        (tmp / "images").mkdir()
        truth = {}
        for i in range(count):
            s = make_scan(kind, seed, i, size, classes, occlusion, undeclared, clean)
            rel = _write_scan(tmp, f"images/{kind}_{seed}_{i:05d}", s, render)
            rec = p.make_record(tmp / rel, rel)
            labelled = i < count - unlabelled
            rec.status = "done" if labelled else "new"
            rec.tags, rec.manifest = (s.tags if labelled else []), s.manifest
            iid = p.store.add_image(rec)
            if labelled:
                p.store.add_regions(iid, [Region(tax.by_name(n).id, mask=m, mask_x=x, mask_y=y, source="synthetic",
                                                 author="xwb synth") for n, m, x, y in s.regions])
            truth[rel] = {**s.truth, "tags": s.tags, "labelled": labelled}
            if progress:
                progress(i + 1, count)
        assign_splits(p)
        (tmp / "synth.json").write_text(json.dumps({"seed": seed, "kind": kind, "size": list(size), "render": render,
                                                    "occlusion": occlusion, "clean": clean, "undeclared": undeclared,
                                                    "scans": truth}, indent=1))
    return out
