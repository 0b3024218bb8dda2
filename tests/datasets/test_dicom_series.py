"""A DICOM CT series (a folder, one file per slice) is one volume, its slices in the order of their position."""
import numpy as np
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from datasets.errors import XwbError
from datasets.project import Project
from datasets.scanio import read_scan
from workbench.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"


def _slice(path, px, z, series, intercept=-1024.0, sop=CT, kvp=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SeriesInstanceUID = sop, series
    ds.Rows, ds.Columns = px.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelSpacing = [0.6, 0.7]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [-100.0, -80.0, float(z)]
    ds.RescaleSlope, ds.RescaleIntercept = 1, intercept
    ds.InstanceNumber = 1  # exporters renumber: never trusted for the order
    if kvp is not None:
        ds.KVP = kvp
    ds.PixelData = px.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def series(tmp_path):
    rng = np.random.default_rng(3)
    vol = rng.integers(0, 4000, (6, 10, 12), dtype=np.uint16)
    folder = tmp_path / "p" / "scans" / "bag1"
    folder.mkdir(parents=True)
    uid = generate_uid()
    for k, name in enumerate(["f", "c", "a", "e", "b", "d"]):  # names in no order of position
        _slice(folder / f"{name}.dcm", vol[k], 2.5 * k - 30, uid)
    return folder, vol, uid


def test_a_series_folder_reads_as_one_volume_in_position_order(series):
    folder, vol, _ = series
    s = read_scan(folder)
    assert (s.axes, s.pixels.shape, s.info.depth, s.info.format) == ("zyx", (6, 10, 12), 6, "dicom")
    np.testing.assert_array_equal(s.pixels, vol)
    assert s.info.spacing == pytest.approx((2.5, 0.6, 0.7)) and s.meta["rescale"] == (1.0, -1024.0)


def test_broken_series_are_refused_by_name(series):
    folder, vol, uid = series
    _slice(folder / "dup.dcm", vol[2], 2.5 * 2 - 30, uid)
    with pytest.raises(XwbError, match=r"a.dcm and dup.dcm are slices at one position \(-25.00 mm\): a duplicate"):
        read_scan(folder)
    (folder / "dup.dcm").unlink()
    (folder / "e.dcm").unlink()  # the slice at -22.5 mm
    with pytest.raises(XwbError, match="a gap of 5.00 mm between a.dcm and b.dcm .* a slice is missing"):
        read_scan(folder)
    _slice(folder / "e.dcm", vol[3], 2.5 * 3 - 30, generate_uid())
    with pytest.raises(XwbError, match="files of 2 series"):
        read_scan(folder)
    _slice(folder / "e.dcm", vol[3], 2.5 * 3 - 30, uid, intercept=0.0)
    with pytest.raises(XwbError, match="2 different rescales"):
        read_scan(folder)


def test_two_series_at_two_kvp_are_one_dual_energy_volume_high_first(tmp_path):
    rng = np.random.default_rng(4)
    hi, lo = (rng.integers(0, 4000, (5, 8, 9), dtype=np.uint16) for _ in range(2))
    folder = tmp_path / "dual"
    folder.mkdir()
    s_lo, s_hi = generate_uid(), generate_uid()
    for k in range(5):
        _slice(folder / f"lo{k}.dcm", lo[k], 3.0 * k, s_lo, kvp=80)
        _slice(folder / f"hi{k}.dcm", hi[k], 3.0 * k, s_hi, kvp=140)
    s = read_scan(folder)
    assert (s.axes, s.info.layout, s.info.channels, s.pixels.shape) == ("zyxc", "dual", 2, (5, 8, 9, 2))
    np.testing.assert_array_equal(s.pixels[..., 0], hi)
    np.testing.assert_array_equal(s.pixels[..., 1], lo)
    assert s.meta["kvp"] == (140.0, 80.0) and s.meta["rescale"] == (1.0, -1024.0)
    (folder / "lo4.dcm").unlink()  # the low series now one slice short
    with pytest.raises(XwbError, match="two series at .* kVp of different geometry"):
        read_scan(folder)
    _slice(folder / "lo4.dcm", lo[4], 12.0, s_lo, kvp=140)  # one slice at the other voltage: not a pair
    with pytest.raises(XwbError, match="files of 2 series .* a dual-energy pair of two series"):
        read_scan(folder)


def test_adding_a_folder_adds_the_series_once_as_a_volume(series, capsys):
    folder, vol, _ = series
    root = folder.parent.parent
    other = folder.parent / "loose.npy"
    np.save(other, vol[0])
    assert main(["init", str(root), "--force"]) == 0
    assert main(["add", str(root), str(folder.parent)]) == 0
    with Project.open(root) as p:
        recs = {r.path: r for r in p.images()}
        assert set(recs) == {"scans/bag1", "scans/loose.npy"}
        assert (recs["scans/bag1"].depth, recs["scans/bag1"].is_volume) == (6, True)
        np.testing.assert_array_equal(p.read_scan(recs["scans/bag1"]).pixels, vol)
