"""The display pipeline: native depth in the pyramid, LUT mapping, level choice, progressive frames."""
import numpy as np
from PySide6.QtGui import QImage

from workbench.render import Display, Pyramid, halve, level_for, render, render_argb


def test_pyramid_keeps_native_depth_and_means():
    a = np.arange(16, dtype=np.uint16).reshape(4, 4) * 1000
    h = halve(a)
    assert h.dtype == np.uint16 and h.shape == (2, 2, 1)
    assert h[0, 0, 0] == round((0 + 1000 + 4000 + 5000) / 4)
    p = Pyramid(np.zeros((1000, 3000, 2), np.uint16), smallest=200)
    p.make_preview(target=500)
    assert p.preview.shape[1] <= 500 and p.preview.dtype == np.uint16
    p.build()
    assert p.done.is_set() and [lv.shape[:2] for lv in p.levels][-1] == (62, 187)
    assert all(lv.dtype == np.uint16 and lv.shape[2] == 2 for lv in p.levels)


def test_lut_mapping_and_argb_agree():
    raw = np.array([[[0], [15000], [30000], [65535]]], np.uint16)
    d = Display(window=(0.0, 30000.0)).with_lut()
    g = render(raw, d)[..., 0]
    assert g.tolist() == [[0, 128, 255, 255]]
    argb = render_argb(raw, d)
    assert ((argb & 0xFF) == g).all() and ((argb >> 24) == 255).all()
    inv = render(raw, d.change(invert=True))[..., 0]
    assert inv.tolist() == [[255, 128, 0, 0]]  # 1 - 0.5 rounds the same way


def test_level_choice_maps_at_most_twice_the_screen():
    assert level_for(1.0) == 0 and level_for(0.8) == 0
    for scale in (0.6, 0.3, 0.1, 0.02):
        k = level_for(scale)
        rel = scale * 2 ** k
        assert 0.70 <= rel <= 1.42, (scale, k, rel)


def test_a_pseudo_colour_scan_is_shown_as_it_is_never_as_two_energies():
    """An 8-bit RGB picture (SIXray style) used to open in the material view, its R and G read as high and
    low energy; it is its own colour view now, at 8 bits (16-bit RGB scaled)."""
    from workbench.render import default_display, modes_for

    rgb = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    d = default_display(rgb, {}, 8)
    assert modes_for(rgb) == ("colour", "high") and d.mode == "colour"
    assert np.array_equal(render(rgb, d), rgb)
    assert np.array_equal(render(rgb, d.change(mode="high"))[..., 0], d.lut[rgb[..., 0]])
    rgb16 = rgb.astype(np.uint16) * 257
    assert np.array_equal(render(rgb16, default_display(rgb16, {}, 16)), rgb)
    dual = np.zeros((4, 4, 2), np.uint16)
    assert modes_for(dual)[0] == "material" and modes_for(np.zeros((4, 4), np.uint16)) == ("high",)


def test_resampled_tiles_meet_without_seams(qtbot, tmp_path):
    """Zoomed out, tiles are resampled to their size on screen one by one. What shows must equal the level
    resampled whole (a tile resampled on its own, without its neighbours' pixels, differs along its edges)."""
    import cv2

    from datasets.project import Project
    from datasets.scanio import write_tiff
    from tests.workbench.conftest import open_window

    p = Project.create(tmp_path / "waves")
    (p.folder / "images").mkdir()
    yy, xx = np.mgrid[0:1200, 0:3000].astype(np.float32)
    waves = (30000 + 25000 * np.sin(xx / 3.1) * np.cos(yy / 4.3)).astype(np.uint16)  # detail at every tile edge
    write_tiff(p.folder / "images" / "waves.tiff", waves)
    p.add_scans([p.folder / "images" / "waves.tiff"])
    p.close()
    w = open_window(qtbot, tmp_path / "waves", (1400, 800))
    w.viewing.set_display(w.viewing.display.change(window=(0.0, 65535.0)))
    item = w.canvas.scan_item
    for zoom in (1.7, 2.9, 5.0):  # levels 2, 1, 0 drawn at 0.75 to 1.25 screen pixels per level pixel
        w.canvas.fit()
        w.canvas.zoom_by(zoom)
        img = w.canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        shown = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.width()) & 0xFF
        t = w.canvas.viewportTransform()
        s, dx, dy = t.m11(), t.dx(), t.dy()
        level = level_for(s)
        f = s * 2 ** level
        lv = item.pyramid.levels[level][..., 0]
        warp = np.array([[1 / f, 0, (0.5 - dx) / f - 0.5], [0, 1 / f, (0.5 - dy) / f - 0.5]])
        whole = cv2.warpAffine(lv, warp, (img.width(), img.height()), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
        want = item.display.lut[whole]
        x0, x1 = max(0, int(dx) + 2), min(img.width(), int(dx + lv.shape[1] * f) - 2)
        y0, y1 = max(0, int(dy) + 2), min(img.height(), int(dy + lv.shape[0] * f) - 2)
        diff = np.abs(shown[y0:y1, x0:x1].astype(int) - want[y0:y1, x0:x1])
        assert diff.size > 10_000 and diff.max() <= 2, (zoom, level, diff.max(), np.unravel_index(diff.argmax(), diff.shape))
    w.close()
