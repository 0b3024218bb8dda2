import numpy as np
import pytest
import tifffile
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from datasets.errors import XwbError
from datasets.scanio import read_scan, scan_info, write_tiff


@pytest.fixture
def rng():
    return np.random.default_rng(1)


def test_16bit_png_and_tiff_keep_every_value(tmp_path, rng):
    import cv2

    a = rng.integers(0, 65536, size=(37, 53), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), a)
    write_tiff(tmp_path / "a.tif", a)
    for f in ("a.png", "a.tif"):
        s = read_scan(tmp_path / f)
        assert s.pixels.dtype == np.uint16 and np.array_equal(s.pixels, a)
        assert (s.info.bit_depth, s.info.layout, s.info.channels) == (16, "gray", 1)
        assert scan_info(tmp_path / f) == s.info


def test_16bit_colour_png_stays_16bit(tmp_path, rng):
    import cv2

    a = rng.integers(0, 65536, size=(20, 30, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "c.png"), a[..., ::-1])
    s = read_scan(tmp_path / "c.png")
    assert s.pixels.dtype == np.uint16 and np.array_equal(s.pixels, a) and s.info.layout == "rgb"


def test_8bit_jpeg_and_bmp(tmp_path, rng):
    import cv2

    a = rng.integers(0, 256, size=(16, 24), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.bmp"), a)
    cv2.imwrite(str(tmp_path / "a.jpg"), a)
    assert np.array_equal(read_scan(tmp_path / "a.bmp").pixels, a)
    j = read_scan(tmp_path / "a.jpg")
    assert j.pixels.dtype == np.uint8 and j.pixels.shape == (16, 24) and j.info.format == "jpeg"


def test_dual_energy_tiff_two_planes_and_two_pages(tmp_path, rng):
    hi = rng.integers(0, 65536, size=(40, 90), dtype=np.uint16)
    lo = rng.integers(0, 65536, size=(40, 90), dtype=np.uint16)
    write_tiff(tmp_path / "planes.tif", np.stack([hi, lo], -1))
    with tifffile.TiffWriter(tmp_path / "pages.tif") as w:
        w.write(hi)
        w.write(lo)
    for f in ("planes.tif", "pages.tif"):
        s = read_scan(tmp_path / f)
        assert s.info.layout == "dual" and s.info.channels == 2 and s.pixels.shape == (40, 90, 2)
        assert np.array_equal(s.high, hi) and np.array_equal(s.low, lo)
        assert scan_info(tmp_path / f) == s.info


def test_large_uncompressed_tiff_is_memory_mapped(tmp_path):
    a = np.zeros((2000, 12000), dtype=np.uint16)
    a[1000, 11999] = 4242
    write_tiff(tmp_path / "cargo.tif", a)
    s = read_scan(tmp_path / "cargo.tif")
    assert isinstance(s.pixels, np.memmap)
    assert s.pixels[1000, 11999] == 4242


def _dicom(path, frames, sop="1.2.840.10008.5.1.4.1.1.501.2.1", image_type=None):
    """A DICOM file as a writer of the standard makes it (default: a DICOS digital X-ray image)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    if image_type:
        ds.ImageType = image_type
    ds.Rows, ds.Columns = frames.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    if frames.ndim == 3:
        ds.NumberOfFrames = frames.shape[0]
    ds.PixelData = frames.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_dicos_single_and_dual_energy(tmp_path, rng):
    one = rng.integers(0, 65536, size=(30, 50), dtype=np.uint16)
    two = rng.integers(0, 65536, size=(2, 30, 50), dtype=np.uint16)
    _dicom(tmp_path / "a.dcs", one)
    _dicom(tmp_path / "b.dcm", two)
    a = read_scan(tmp_path / "a.dcs")
    assert a.pixels.dtype == np.uint16 and np.array_equal(a.pixels, one) and a.info.format == "dicom"
    b = read_scan(tmp_path / "b.dcm")
    assert b.info.layout == "dual" and np.array_equal(b.high, two[0]) and np.array_equal(b.low, two[1])
    assert scan_info(tmp_path / "b.dcm") == b.info


@pytest.mark.parametrize("name,content,msg", [
    ("broken.png", b"\x89PNG\r\n\x1a\nthis is not a png", "cannot"),
    ("broken.tif", b"II*\x00garbage", "TIFF"),
    ("notes.txt", b"hello", "not a supported scan format"),
])
def test_unreadable_scans_name_the_file(tmp_path, name, content, msg):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(XwbError, match=msg) as e:
        read_scan(tmp_path / name)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_missing_scan(tmp_path):
    with pytest.raises(XwbError, match="no such file"):
        read_scan(tmp_path / "nope.tif")
