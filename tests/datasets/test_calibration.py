"""Calibration facts a file carries travel with its scan, at native depth."""
import numpy as np

from datasets import calibration


def test_a_ct_files_rescale_is_kept_beside_its_native_values():
    """pydicom's CT_small.dcm (written by a GE scanner): RescaleSlope 1, RescaleIntercept -1024."""
    from pydicom.data import get_testdata_file

    from datasets.scanio import read_scan

    scan = read_scan(get_testdata_file("CT_small.dcm"))
    assert scan.meta["rescale"] == (1.0, -1024.0)
    assert scan.pixels.dtype == np.int16  # native, not rescaled
    hu = calibration.rescaled(scan.pixels, scan.meta)
    np.testing.assert_array_equal(hu, scan.pixels.astype(np.float32) - 1024)
    assert calibration.rescale_of({}) == (1.0, 0.0)
    np.testing.assert_array_equal(calibration.rescaled(scan.pixels, {}), scan.pixels.astype(np.float32))
