"""The workbench reads a scan with the axes its record holds (``xwb add --axes``), never by re-guessing: a
3-page TIFF the user declared as channels opens as 3 channels, and an undeclared volume is refused by name."""
import numpy as np
import tifffile

from workbench.loader import Loader


def test_loader_reads_with_the_records_axes_and_refuses_a_volume(qtbot, tmp_path):
    vol = np.random.default_rng(3).integers(0, 65536, (3, 48, 64), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol, photometric="minisblack")
    loader = Loader()
    try:
        with qtbot.waitSignal(loader.sig.loaded, timeout=20000) as got:
            loader.load(1, str(tmp_path / "stack.tif"), "yxc")
        scan = got.args[1]
        assert scan.axes == "yxc" and scan.pixels.shape == (48, 64, 3)
        assert np.array_equal(scan.pixels[..., 1], vol[1])
        with qtbot.waitSignal(loader.sig.failed, timeout=20000) as bad:
            loader.load(1, str(tmp_path / "stack.tif"))
        assert "stack.tif: a volume (16-bit gray zyx 3x64x48); this takes 2-D scans" in bad.args[2]
        with qtbot.waitSignal(loader.sig.thumb, timeout=20000) as th:
            loader.thumbnails([(7, str(tmp_path / "stack.tif"), "yxc")])
        assert th.args[0] == 7 and th.args[1].shape == (24, 32)  # the high channel, every 2nd pixel
    finally:
        loader.shutdown()
