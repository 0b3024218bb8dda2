"""The geometry of assisted labelling (workbench/assist), without Qt: wand, live wire, masks, the robot."""
import numpy as np
import pytest

from workbench.assist import robot as R
from workbench.assist import wand as W
from workbench.assist.livewire import LiveWire
from workbench.assist.masks import Patch, fill_holes, iou, minus, polygon_patch, union
from workbench.assist.signal import ScanSignal

I0 = 60000.0


def counts(att_high: np.ndarray, att_low: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dual-energy uint16 counts from attenuation maps, with quantum-like noise."""
    rng = np.random.default_rng(seed)
    c = np.stack([I0 * np.exp(-att_high), I0 * np.exp(-att_low)], axis=2)
    c = c + rng.normal(0, 1, c.shape) * np.sqrt(c)
    return np.clip(c, 1, 65535).astype(np.uint16)


def scene(h=400, w=600):
    """Clutter everywhere; an object at rows 100-199, cols 150-299 adding 0.8 (high) / 1.0 (low)."""
    hi = np.full((h, w), 0.5, np.float32)
    lo = np.full((h, w), 0.6, np.float32)
    hi[100:200, 150:300] += 0.8
    lo[100:200, 150:300] += 1.0
    truth = Patch(np.ones((100, 150), bool), 150, 100)
    return hi, lo, truth


def test_the_wand_takes_the_object_and_stays_at_native_depth():
    hi, lo, truth = scene()
    c = counts(hi, lo)
    sig = ScanSignal(c, (I0, I0))
    got = W.wand(sig, 220, 150)
    assert c.dtype == np.uint16 and iou(got, truth) > 0.95
    assert W.wand(sig, 220, 150, tolerance=0.7) is not None
    assert iou(W.wand(sig, 220, 150, tolerance=0.7), truth) < 0.5  # too tolerant: the clutter comes too
    assert W.wand(sig, -5, 10) is None


def test_dual_energy_separates_what_one_energy_cannot():
    """Two touching objects with the same high-energy attenuation but different materials (low energy):
    the wand keeps them apart on a dual-energy scan and merges them on the high channel alone."""
    hi, lo, truth = scene()
    hi[100:200, 300:450] += 0.8  # the neighbour: same high attenuation
    lo[100:200, 300:450] += 0.4  # another material: less low-energy attenuation
    c = counts(hi, lo)
    dual = W.wand(ScanSignal(c, (I0, I0)), 220, 150)
    grey = W.wand(ScanSignal(c[..., 0], (I0,)), 220, 150)
    assert iou(dual, truth) > 0.95
    assert iou(grey, truth) < 0.7 and grey.area > 1.8 * truth.area


def test_the_wand_window_grows_with_the_object():
    h, w = 700, 2600
    hi = np.full((h, w), 0.3, np.float32)
    hi[200:500, 100:1900] += 0.9
    truth = Patch(np.ones((300, 1800), bool), 100, 200)
    got = W.wand(ScanSignal(counts(hi, hi * 1.5)[..., :1], (I0,)), 1000, 350, half=128)
    assert iou(got, truth) > 0.97  # the first 256 x 256 window was far too small


def test_a_two_page_tiff_reads_like_any_scan(tmp_path):
    """tifffile maps the two energies of a two-page TIFF channel-major; the window must not care."""
    from datasets.scanio import read_scan, write_tiff

    hi, lo, truth = scene()
    write_tiff(tmp_path / "a.tiff", counts(hi, lo), meta={"i0": [I0, I0], "dark": 0.0})
    scan = read_scan(tmp_path / "a.tiff")
    sig = ScanSignal.of_scan(scan)
    win = sig.window(0, 0, 600, 400).data
    assert win.flags["C_CONTIGUOUS"] and abs(float(win[150, 220, 0]) - 1.3) < 0.05
    assert iou(W.wand(sig, 220, 150), truth) > 0.95


def test_tolerance_steps_for_a_drag():
    assert W.step(W.DEFAULT_TOLERANCE, 0) == pytest.approx(W.DEFAULT_TOLERANCE)
    assert W.step(W.DEFAULT_TOLERANCE, 1) > W.DEFAULT_TOLERANCE > W.step(W.DEFAULT_TOLERANCE, -1)
    assert W.step(0.2, 100) == W.TOLERANCES[-1] and W.step(0.2, -100) == W.TOLERANCES[0]


def test_live_wire_follows_a_round_edge_that_straight_segments_cut():
    h = w = 300
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 150) ** 2 + (xx - 150) ** 2 <= 100 ** 2
    hi = 0.2 + 1.0 * disc.astype(np.float32)
    sig = ScanSignal(counts(hi, hi * 1.6), (I0, I0))
    truth = Patch(disc, 0, 0)
    anchors = [(150, 50), (250, 150), (150, 250), (50, 150)]
    wire = LiveWire(sig)
    for a in anchors:
        wire.add_anchor(*a)
    assert iou(polygon_patch(wire.close()), truth) > 0.93
    assert iou(polygon_patch(np.array(anchors)), truth) < 0.7  # what the polygon tool gives with 4 clicks
    wire.undo()
    assert wire.anchors == [(150, 50), (250, 150), (150, 250)] and len(wire.points) == 2


def test_patches_combine_without_a_scan_sized_array():
    a = Patch(np.ones((10, 10), bool), 5, 5)
    b = Patch(np.ones((10, 10), bool), 10, 10)
    u = union(a, b)
    assert u.box == (5, 5, 20, 20) and u.area == 175
    assert minus(a, b).area == 75 and minus(a, a) is None
    assert iou(a, b) == pytest.approx(25 / 175)
    ring = np.ones((9, 9), bool)
    ring[3:6, 3:6] = False
    assert fill_holes(ring).all()
    assert polygon_patch(np.array([[0, 0], [9, 0], [9, 9], [0, 9]])).area == 100


def test_the_robot_clicks_where_the_error_is():
    truth = Patch(np.ones((20, 40), bool), 100, 100)
    x, y, pos = R.next_click(None, truth)
    assert pos and (x, y) in {(119, 109), (120, 109), (119, 110), (120, 110)}  # the centre
    too_much = Patch(np.ones((20, 60), bool), 100, 100)  # 20 columns too many on the right
    x, y, pos = R.next_click(too_much, truth)
    assert not pos and 140 <= x < 160
    missed = Patch(np.ones((20, 30), bool), 100, 100)
    x, y, pos = R.next_click(missed, truth)
    assert pos and 130 <= x < 140


def test_noc_of_the_wand_and_the_baselines_on_a_plain_object():
    hi, lo, truth = scene()
    sig = ScanSignal(counts(hi, lo), (I0, I0))
    need, curve = R.clicks_to(R.wand_step(sig, truth), truth)
    assert need == {0.85: 1, 0.9: 1} and curve[0] > 0.95
    assert R.polygon_vertices(truth) == {0.85: 4, 0.9: 4}  # a rectangle: 4 corners
    lw, _ = R.livewire_anchors(sig, truth)
    assert lw[0.9] <= 4


def test_a_signal_knows_its_kind_from_the_file_or_the_array():
    hi, lo, _ = scene()
    assert ScanSignal(counts(hi, lo), (I0, I0)).kind() == ("dual", 16)
    assert ScanSignal(np.zeros((4, 4), np.uint8), (255.0,)).kind() == ("gray", 8)
    assert ScanSignal(np.zeros((4, 4, 3), np.uint8), (255.0,), colour=True).kind() == ("rgb", 8)
    assert ScanSignal(np.zeros((4, 4), np.uint16), (1.0,), layout="gray", bit_depth=12).kind() == ("gray", 12)
