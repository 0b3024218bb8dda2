"""Scans name their axes (datasets/scan.py): each reader says what a file holds, or which axes it assumed, and
``xwb add --axes`` settles what a reader cannot tell. Real files, written by tifffile, pydicom and numpy."""
import numpy as np
import pytest
import tifffile
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from datasets import readers
from datasets.errors import XwbError
from datasets.project import Project
from datasets.scanio import SCAN_SUFFIXES, read_scan, scan_info, write_tiff
from workbench.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage


def _xwb(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _ct(path, vol, sop=CT):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop
    ds.Rows, ds.Columns = vol.shape[1:]
    ds.NumberOfFrames = vol.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.75], 1.25
    ds.PixelData = vol.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_dual_energy_tiff_is_yxc_with_high_then_low(tmp_path, rng):
    hi, lo = (rng.integers(0, 65536, (40, 90), dtype=np.uint16) for _ in range(2))
    write_tiff(tmp_path / "planes.tif", np.stack([hi, lo], -1))
    with tifffile.TiffWriter(tmp_path / "pages.tif") as w:
        w.write(hi)
        w.write(lo)
    for name in ("planes.tif", "pages.tif"):
        s = read_scan(tmp_path / name)
        assert (s.axes, s.info.layout, s.info.assumed, s.pixels.shape) == ("yxc", "dual", "", (40, 90, 2))
        assert np.array_equal(s.high, hi) and np.array_equal(s.low, lo)
        assert scan_info(tmp_path / name) == s.info


def test_three_page_tiff_is_read_as_slices_and_says_it_assumed_so(tmp_path, rng):
    vol = rng.integers(0, 65536, (3, 48, 64), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol, photometric="minisblack")  # three pages, axes not named
    s = read_scan(tmp_path / "stack.tif")
    assert (s.axes, s.info.depth, s.info.width, s.info.height, s.info.bit_depth) == ("zyx", 3, 64, 48, 16)
    assert "3 pages" in s.info.assumed and "--axes yxc" in s.info.assumed
    assert np.array_equal(s.pixels, vol) and scan_info(tmp_path / "stack.tif") == s.info
    as_channels = read_scan(tmp_path / "stack.tif", axes="yxc")
    assert as_channels.axes == "yxc" and as_channels.pixels.shape == (48, 64, 3) and not as_channels.info.assumed
    assert np.array_equal(as_channels.pixels[..., 2], vol[2])


def test_a_volume_named_by_its_file_needs_no_guess(tmp_path, rng):
    vol = rng.integers(0, 65536, (5, 20, 30), dtype=np.uint16)
    write_tiff(tmp_path / "ct.tif", vol, axes="zyx")  # ImageJ/shaped metadata says ZYX
    s = read_scan(tmp_path / "ct.tif")
    assert (s.axes, s.info.depth, s.info.assumed) == ("zyx", 5, "") and np.array_equal(s.pixels, vol)


def test_three_planes_of_one_page_are_channels_but_said_to_be_a_guess(tmp_path, rng):
    tifffile.imwrite(tmp_path / "rgbish.tif", rng.integers(0, 65536, (3, 48, 64), dtype=np.uint16), photometric="rgb",
                     planarconfig="separate")
    s = read_scan(tmp_path / "rgbish.tif")
    assert s.axes == "yxc" and s.pixels.shape == (48, 64, 3) and "--axes zyx" in s.info.assumed
    assert read_scan(tmp_path / "rgbish.tif", axes="zyx").info.depth == 3


def test_multi_frame_ct_dicom_is_a_volume_with_its_spacing(tmp_path, rng):
    vol = rng.integers(0, 4096, (6, 16, 24), dtype=np.uint16)
    _ct(tmp_path / "ct.dcm", vol)
    s = read_scan(tmp_path / "ct.dcm")
    assert (s.axes, s.info.depth, s.info.spacing, s.info.assumed) == ("zyx", 6, (1.25, 0.5, 0.75), "")
    assert np.array_equal(s.pixels, vol) and scan_info(tmp_path / "ct.dcm") == s.info
    _ct(tmp_path / "other.dcm", vol, sop="1.2.840.10008.5.1.4.1.1.481.2")  # RT dose: frames, not called CT
    assert "6 frames read as slices" in scan_info(tmp_path / "other.dcm").assumed


def test_npy_volumes_and_scans(tmp_path, rng):
    np.save(tmp_path / "vol.npy", rng.integers(0, 65536, (10, 32, 40), dtype=np.uint16))
    np.save(tmp_path / "dual.npy", rng.integers(0, 65536, (32, 40, 2), dtype=np.uint16))
    np.save(tmp_path / "flat.npy", rng.random((32, 40), dtype=np.float32))
    v = read_scan(tmp_path / "vol.npy")
    assert (v.axes, v.info.depth) == ("zyx", 10) and "--axes yxc" in v.info.assumed
    assert isinstance(v.pixels, np.memmap)  # never loaded whole
    d = read_scan(tmp_path / "dual.npy")
    assert (d.axes, d.info.layout) == ("yxc", "dual") and "--axes zyx" in d.info.assumed
    assert read_scan(tmp_path / "dual.npy", axes="zyx").info.depth == 32
    f = read_scan(tmp_path / "flat.npy")
    assert (f.axes, f.info.assumed, f.info.bit_depth) == ("yx", "", 32)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(XwbError, match="objects.npy: not a plain numeric"):
        read_scan(tmp_path / "objects.npy")
    with pytest.raises(XwbError, match="--axes yxc does not fit an array of shape"):
        read_scan(tmp_path / "flat.npy", axes="yxc")


def test_add_records_a_volume_with_its_depth_and_says_which_axes_it_assumed(tmp_path, rng, capsys):
    assert _xwb("init", tmp_path / "p") == 0
    img = tmp_path / "p" / "scans"
    img.mkdir()
    stack = rng.integers(0, 65536, (3, 48, 64), dtype=np.uint16)
    tifffile.imwrite(img / "stack.tif", stack, photometric="minisblack")
    tifffile.imwrite(img / "planes.tif", stack, photometric="minisblack")
    np.save(img / "dual.npy", rng.integers(0, 65536, (32, 40, 2), dtype=np.uint16))
    capsys.readouterr()
    assert _xwb("add", tmp_path / "p", img / "stack.tif", img / "dual.npy") == 0
    out = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("note: ") and "stack.tif" in ln and "3 pages" in ln for ln in out)
    assert any(ln.startswith("note: ") and "dual.npy" in ln and "yxc" in ln for ln in out)
    assert _xwb("add", tmp_path / "p", img / "planes.tif", "--axes", "yxc") == 0  # the user says: channels
    with Project.open(tmp_path / "p") as p:
        recs = {r.path: r for r in p.images()}
        vol = recs["scans/stack.tif"]
        assert (vol.depth, vol.width, vol.height, vol.is_volume) == (3, 64, 48, True)
        np.testing.assert_array_equal(p.read_scan(vol).pixels, stack)
        rec = recs["scans/planes.tif"]
        assert (rec.axes, rec.channels, rec.layout, rec.depth, rec.is_volume) == ("yxc", 3, "rgb", 1, False)
        assert p.read_scan(rec).pixels.shape == (48, 64, 3)  # read back as the user said, every time
        assert recs["scans/dual.npy"].axes == "" and recs["scans/dual.npy"].layout == "dual"
    assert _xwb("add", tmp_path / "p", img, "--axes", "xyz") == 1
    assert "axes 'xyz' not known" in capsys.readouterr().err


def test_reader_registry_lists_every_reader_and_sniffs_without_a_suffix(tmp_path, rng):
    assert set(readers.readers()) == {"dicom", "dicom-series", "nifti", "npy", "raster", "tiff"}
    assert {".tif", ".tiff", ".dcm", ".png", ".jpg", ".npy", ".nii", ".nii.gz"} <= SCAN_SUFFIXES
    write_tiff(tmp_path / "scan.bin", rng.integers(0, 65536, (8, 9), dtype=np.uint16))
    assert readers.for_path(tmp_path / "scan.bin").NAME == "tiff" and read_scan(tmp_path / "scan.bin").axes == "yx"
    (tmp_path / "notes.bin").write_bytes(b"hello, not a scan" * 10)
    with pytest.raises(XwbError, match=r"notes.bin: not a supported scan format \(DICOM/DICOS, NIfTI \(.nii, .nii.gz\), NumPy"):
        read_scan(tmp_path / "notes.bin")
