"""The display pipeline: native depth in the pyramid, LUT mapping, level choice, progressive frames."""
import numpy as np

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
