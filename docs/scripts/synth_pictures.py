"""Render one cargo and one baggage synthetic scan (high energy, material colour) for docs/.

Run: .venv/bin/python docs/scripts/synth_pictures.py
"""
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from datasets.display import gray8, material_rgb  # noqa: E402
from datasets.regions import Region  # noqa: E402
from datasets.synth.build import make_scan  # noqa: E402
from datasets.synth.objects import THREATS  # noqa: E402
from datasets.taxonomy import Taxonomy, default_taxonomy_path  # noqa: E402


def panel(kind, seed, size, out):
    tax = Taxonomy.load(default_taxonomy_path())
    s = make_scan(kind, seed, 0, size, list(THREATS), "mixed", 0.2)
    hi, lo = s.counts[..., 0], s.counts[..., 1]
    g = Image.fromarray(gray8(hi, (0, s.meta["i0"][0] + s.meta["dark"]))).convert("RGB")
    m = Image.fromarray(material_rgb(hi, lo, s.meta["i0"], s.meta["dark"], s.meta["regime"]))
    outline = m.copy()
    d = ImageDraw.Draw(outline)
    for name, mask, x, y in s.regions:
        r = Region(1, mask=mask, mask_x=x, mask_y=y)
        x0, y0, x1, y1 = r.bbox()
        d.rectangle([x0 - 2, y0 - 2, x1 + 2, y1 + 2], outline=tax.by_name(name).rgb, width=3)
        d.text((x0, max(0, y0 - 14)), name, fill=tax.by_name(name).rgb)
    w, h = g.size
    canvas = Image.new("RGB", (w, 2 * h + 8), "white") if w > 1.5 * h else Image.new("RGB", (2 * w + 8, h), "white")
    canvas.paste(g, (0, 0))
    canvas.paste(outline, (0, h + 8) if w > 1.5 * h else (w + 8, 0))
    canvas.save(out)
    print(out, s.truth)


if __name__ == "__main__":
    docs = ROOT / "docs"
    panel("cargo", 3, (512, 2048), docs / "synth_cargo.png")
    panel("baggage", 2, (768, 1024), docs / "synth_baggage.png")
