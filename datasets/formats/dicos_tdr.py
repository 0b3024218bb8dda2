"""DICOS Threat Detection Reports (TDR): what a screening station's algorithm (or its operator) found in a scan.

A TDR is a DICOM object of the DICOS standard (NEMA IIC 1, SOP class "Threat Detection Report Storage") that
references the scan it reports on by SOP Instance UID and lists potential threat objects (PTOs), each with
an assessment (threat category, a description, a flag and a probability) and one or more representations
(group 4010): a region of interest by its base and extents in the scan's voxels or pixels, optionally a
bitmap of the voxels inside that box (one bit each, x fastest, then y, then z) or a bounding polygon.
``TDRType`` says whose report it is: ``MACHINE`` (an algorithm), ``OPERATOR`` (a screener), ``GROUND_TRUTH``.

- Import: each PTO becomes a region on the scan it references, source ``tdr:<type>`` (lower case) and
  ``tdr:machine:<algorithm>`` for an algorithm's: a bitmap of a volume a voxel region, of a 2-D scan a mask;
  a polygon a polygon; a box alone a 3-D box (volumes) or a rectangle (2-D). An algorithm's PTOs are
  proposals with its probability as score; an operator's and ground truth are accepted. A TDR that
  references no scan of the project, or a class not in the taxonomy (without ``--add-classes``), is refused
  by name before anything is written.
- Export: per scan, the accepted regions as a ``GROUND_TRUTH`` TDR, and with ``--with-proposals`` each
  model's proposals as a ``MACHINE`` TDR naming the model; the class goes into ``ThreatCategoryDescription``.
A scan is referenced by its own SOP Instance UID when it is a DICOM file (or the first slice of a series), else
by a UID derived from its file's SHA-256 (``2.25.…``), so a re-export references the same scan the same way.
No open library writes TDRs (pyDICOS wraps a C++ toolkit); this module writes the attributes with pydicom and
reads back what it and others write; it was not checked against a DICOS validator.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from datasets.safefs import staged_export, write_new
from datasets.stores import ImageRecord

TDR_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.501.3"    # DICOS Threat Detection Report Storage
DICOS_CT_CLASS = "1.2.840.10008.5.1.4.1.1.501.1"    # DICOS CT Image Storage
DICOS_DX_CLASS = "1.2.840.10008.5.1.4.1.1.501.2.1"  # DICOS Digital X-Ray Image Storage (for presentation)
TDR_TYPES = ("MACHINE", "OPERATOR", "GROUND_TRUTH")
# the DICOS threat category of a taxonomy class (defined terms as read from the standard's TDR module)
CATEGORY = {"firearm": "PROHIBITED_ITEM", "knife": "PROHIBITED_ITEM", "drugs": "CONTRABAND",
            "cigarettes": "CONTRABAND", "currency": "CONTRABAND", "ivory": "CONTRABAND", "solid_waste": "CONTRABAND"}


def _uid(*parts: str) -> str:
    """A UID under 2.25 (a 128-bit number, as from a UUID) derived from ``parts``: the same parts, the same UID."""
    import hashlib

    return "2.25." + str(int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32], 16))


def _dicom_uids(path: Path) -> list[str]:
    """SOP Instance (and series) UIDs a TDR may use for this scan: a DICOM file's, every slice's of a series."""
    import pydicom

    files = sorted(path.iterdir()) if path.is_dir() else [path]
    out: list[str] = []
    for f in files:
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID", "SeriesInstanceUID"])
        except Exception:  # not DICOM (NIfTI, TIFF, ...): the derived UID stands for it
            continue
        for k in ("SOPInstanceUID", "SeriesInstanceUID"):
            v = str(getattr(ds, k, "") or "")
            if v and v not in out:
                out.append(v)
    return out


def scan_uids(project: Project, rec: ImageRecord) -> list[str]:
    """Every UID that names ``rec``; the first is the one xwb writes."""
    own = _dicom_uids(project.image_path(rec))
    return [*own, _uid(rec.sha256)] if own else [_uid(rec.sha256)]


# ---------------------------------------------------------------- export
def _threat_item(project: Project, rec: ImageRecord, r: Region, n: int, ref_uid: str):
    from pydicom.dataset import Dataset

    tax = project.taxonomy
    name = tax.by_id(r.class_id).name if r.class_id in tax.ids else str(r.class_id)
    ref = Dataset()
    ref.ReferencedSOPClassUID = DICOS_CT_CLASS if rec.is_volume else DICOS_DX_CLASS
    ref.ReferencedSOPInstanceUID = ref_uid
    assess = Dataset()
    assess.ThreatCategory = CATEGORY.get(name, "ANOMALY")
    assess.ThreatCategoryDescription = name
    assess.ATDAbilityAssessment = "NO_INTERFERENCE"
    assess.ATDAssessmentFlag = "THREAT" if name in CATEGORY else "NO_THREAT"
    assess.ATDAssessmentProbability = float(1.0 if r.score is None else r.score)
    roi = Dataset()
    x0, y0, z0, x1, y1, z1 = r.bbox3d()
    roi.ThreatROIBase = [float(x0), float(y0), float(z0)]
    roi.ThreatROIExtents = [float(x1 - x0), float(y1 - y0), float(z1 - z0)]
    if r.voxels is not None:
        roi.ThreatROIBitmap = np.packbits(r.voxels.ravel(), bitorder="little").tobytes()
    elif r.mask is not None:
        roi.ThreatROIBitmap = np.packbits(r.mask.ravel(), bitorder="little").tobytes()
    elif r.polygon is not None:
        roi.BoundingPolygon = [float(v) for v in r.polygon.ravel()]
    rep = Dataset()
    rep.ReferencedInstanceSequence = [ref]
    rep.ThreatROIVoxelSequence = [roi]
    pto = Dataset()
    pto.PotentialThreatObjectID = n
    pto.ReferencedInstanceSequence = [ref]
    pto.ATDAssessmentSequence = [assess]
    pto.PTORepresentationSequence = [rep]
    return pto


def tdr_dataset(project: Project, rec: ImageRecord, regions: list[Region], tdr_type: str, algorithm: str,
                ref_uid: str):
    """The TDR of ``regions`` on ``rec`` (a pydicom FileDataset, not yet written)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    key = "|".join([ref_uid, tdr_type, algorithm, *sorted(r.content_key().hex()[:64] for r in regions)])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(TDR_SOP_CLASS)
    meta.MediaStorageSOPInstanceUID = UID(_uid("tdr", key))
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = TDR_SOP_CLASS
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "TDR"
    ds.StudyInstanceUID = _uid("study", ref_uid)
    ds.SeriesInstanceUID = _uid("tdr-series", ref_uid, tdr_type)
    ds.InstanceNumber = 1
    now = time.strftime("%Y%m%d%H%M%S")
    ds.ContentDate, ds.ContentTime = now[:8], now[8:]
    ds.Manufacturer = "xwb"
    ds.PatientID = Path(rec.path).name[:64]  # the object of inspection
    ds.OOIType = "BAGGAGE"
    ds.TDRType = tdr_type
    ds.ThreatDetectionAlgorithmAndVersion = algorithm[:64]
    threats = [r for r in regions if (project.taxonomy.by_id(r.class_id).name if r.class_id in project.taxonomy.ids
                                      else "") in CATEGORY]
    ds.AlarmDecision = "ALARM" if threats else "CLEAR"
    ds.AlarmDecisionTime = now
    ds.NumberOfTotalObjects = len(regions)
    ds.NumberOfAlarmObjects = len(threats)
    ds.TotalProcessingTime = 0.0
    ds.ThreatSequence = [_threat_item(project, rec, r, n, ref_uid) for n, r in enumerate(regions, start=1)]
    return ds


def export_tdr(project: Project, out: str | Path, with_proposals: bool = False, overwrite: bool = False) -> dict:
    """One GROUND_TRUTH TDR per scan with accepted regions, one MACHINE TDR per model and scan with proposals."""
    import io

    from pydicom.filewriter import dcmwrite

    files = scans = 0
    with staged_export(out, overwrite) as tmp:
        for rec in project.store.images():
            regs = project.store.regions(rec.id)
            groups: dict[tuple[str, str], list[Region]] = {}
            for r in regs:
                if r.state == "accepted":
                    groups.setdefault(("GROUND_TRUTH", "xwb reviewed labels"), []).append(r)
                elif r.state == "proposal" and with_proposals:
                    groups.setdefault(("MACHINE", r.source), []).append(r)
            if not groups:
                continue
            uid = scan_uids(project, rec)[0]
            stem = Path(rec.path).name.removesuffix(".gz").rsplit(".", 1)[0] or Path(rec.path).name
            for (kind, algo), rs in sorted(groups.items()):
                buf = io.BytesIO()
                dcmwrite(buf, tdr_dataset(project, rec, rs, kind, algo, uid), enforce_file_format=True)
                tag = kind.lower() if kind != "MACHINE" else "machine-" + "".join(
                    c if c.isalnum() else "-" for c in algo).strip("-")
                write_new(tmp / Path(rec.path).parent / f"{stem}.{tag}.tdr.dcm", buf.getvalue())
                files += 1
            scans += 1
    return {"files": files, "scans": scans}


# ---------------------------------------------------------------- import
@dataclass
class _Planned:
    image_id: int
    name: str
    region: Region


def _bits(raw: bytes, shape: tuple[int, ...], where: str) -> np.ndarray:
    n = int(np.prod(shape))
    bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")
    if bits.size < n:
        raise XwbError(f"{where}: ThreatROIBitmap holds {bits.size} bits, its extents need {n}")
    return bits[:n].reshape(shape).astype(bool)


def _region(rec: ImageRecord, roi, source: str, state: str, score: float | None, where: str) -> Region:
    base = [float(v) for v in (getattr(roi, "ThreatROIBase", None) or [])]
    ext = [float(v) for v in (getattr(roi, "ThreatROIExtents", None) or [])]
    kw: dict = {"source": source, "state": state, "score": score, "author": source}
    poly = getattr(roi, "BoundingPolygon", None)
    if len(base) < 2 or len(ext) < 2:
        if poly is not None and not rec.is_volume:
            pts = np.asarray([float(v) for v in poly], np.float64).reshape(-1, 2)
            return Region(0, polygon=pts, **kw)
        raise XwbError(f"{where}: a threat object without ThreatROIBase/ThreatROIExtents")
    base += [0.0] * (3 - len(base))
    ext += [1.0] * (3 - len(ext))
    x0, y0, z0 = (int(round(v)) for v in base)
    dx, dy, dz = (max(1, int(round(v))) for v in ext)
    limits = (rec.width, rec.height, rec.depth if rec.is_volume else 1)
    if x0 < 0 or y0 < 0 or z0 < 0 or x0 + dx > limits[0] or y0 + dy > limits[1] or z0 + dz > limits[2]:
        raise XwbError(f"{where}: its box {base} + {ext} reaches outside the scan "
                       f"({'x'.join(map(str, limits[:3 if rec.is_volume else 2]))})")
    raw = getattr(roi, "ThreatROIBitmap", None)
    if rec.is_volume:
        if raw is not None:
            return Region(0, voxels=_bits(bytes(raw), (dz, dy, dx), where), mask_x=x0, mask_y=y0, mask_z=z0, **kw)
        return Region(0, box=np.array([base[0], base[1], base[2], base[0] + ext[0], base[1] + ext[1],
                                       base[2] + ext[2]]), **kw)
    if raw is not None:
        return Region(0, mask=_bits(bytes(raw), (dy, dx), where), mask_x=x0, mask_y=y0, **kw)
    if poly is not None:
        return Region(0, polygon=np.asarray([float(v) for v in poly], np.float64).reshape(-1, 2), **kw)
    return Region(0, polygon=np.array([[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy]], np.float64), **kw)


def _plan(project: Project, path: Path, by_uid: dict[str, ImageRecord]) -> list[_Planned]:
    import pydicom

    try:
        ds = pydicom.dcmread(path)
    except Exception as e:
        raise XwbError(f"{path}: not a DICOM file ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    if str(getattr(ds, "SOPClassUID", "")) != TDR_SOP_CLASS and "ThreatSequence" not in ds:
        raise XwbError(f"{path}: not a DICOS Threat Detection Report (SOP class {getattr(ds, 'SOPClassUID', '-')})")
    kind = str(getattr(ds, "TDRType", "") or "MACHINE").upper()
    if kind not in TDR_TYPES:
        raise XwbError(f"{path}: TDRType {kind!r} is not one of {', '.join(TDR_TYPES)}")
    algo = str(getattr(ds, "ThreatDetectionAlgorithmAndVersion", "") or "")
    source = f"tdr:{kind.lower()}" + (f":{algo}" if kind == "MACHINE" and algo else "")
    state = "proposal" if kind == "MACHINE" else "accepted"
    out = []
    for n, pto in enumerate(getattr(ds, "ThreatSequence", []) or [], start=1):
        where = f"{path.name}: threat object {getattr(pto, 'PotentialThreatObjectID', n)}"
        refs = [str(r.ReferencedSOPInstanceUID) for r in getattr(pto, "ReferencedInstanceSequence", []) or []
                if "ReferencedSOPInstanceUID" in r]
        for rep in getattr(pto, "PTORepresentationSequence", []) or []:
            refs += [str(r.ReferencedSOPInstanceUID) for r in getattr(rep, "ReferencedInstanceSequence", []) or []
                     if "ReferencedSOPInstanceUID" in r]
        rec = next((by_uid[u] for u in refs if u in by_uid), None)
        if rec is None:
            raise XwbError(f"{where}: references scan {refs[0] if refs else '(none)'}, which is not in "
                           f"{project.name}; add the scan first (xwb add)")
        assess = (getattr(pto, "ATDAssessmentSequence", []) or [None])[0]
        name = str(getattr(assess, "ThreatCategoryDescription", "") or getattr(assess, "ThreatCategory", "") or "")
        if not name:
            raise XwbError(f"{where}: no ThreatCategoryDescription or ThreatCategory")
        prob = getattr(assess, "ATDAssessmentProbability", None)
        score = float(prob) if prob is not None and kind == "MACHINE" else None
        reps = getattr(pto, "PTORepresentationSequence", []) or []
        rois = [roi for rep in reps for roi in (getattr(rep, "ThreatROIVoxelSequence", []) or [])]
        if not rois:
            raise XwbError(f"{where}: no region of interest (PTORepresentationSequence/ThreatROIVoxelSequence)")
        out.append(_Planned(rec.id, name, _region(rec, rois[0], source, state, score, where)))
    return out


def import_tdr(project: Project, path: str | Path, add_classes: bool = False):
    """Regions from a TDR file or a folder of them (``*.dcm``); all or nothing."""
    from datasets.formats.common import ImportSummary
    from datasets.taxonomy import check_name

    path = Path(path)
    files = sorted(path.rglob("*.dcm")) if path.is_dir() else [path]
    if not files:
        raise XwbError(f"{path}: no .dcm files")
    by_uid: dict[str, ImageRecord] = {}
    for rec in project.store.images():
        for u in scan_uids(project, rec):
            by_uid.setdefault(u, rec)
    planned = [p for f in files for p in _plan(project, f, by_uid)]
    tax = project.taxonomy
    unknown = sorted({p.name for p in planned if not tax.has_name(p.name)})
    if unknown and not add_classes:
        raise XwbError(f"{path}: classes not in the taxonomy: {', '.join(unknown)} (use --add-classes to add them)")
    summary = ImportSummary()
    with project.store.transaction():
        for n in unknown:
            check_name(n, f"{path}: class {n!r}")
            tax.add_class(n)
        by_image: dict[int, list[Region]] = {}
        for p in planned:
            p.region.class_id = tax.by_name(p.name).id
            by_image.setdefault(p.image_id, []).append(p.region)
        for iid, regs in by_image.items():
            present = {r.content_key() for r in project.store.regions(iid, include_rejected=True)}
            new = [r for r in regs if r.content_key() not in present]
            summary.duplicates += len(regs) - len(new)
            project.store.add_regions(iid, new)
            summary.regions += len(new)
        summary.images = len(by_image)
        if unknown:
            summary.added_classes = unknown
            project.save_config()
    return summary


# -- registry face (datasets/formats/__init__.py) -------------------------------------------------------------
NAME = "tdr"
VOLUMES = True
IMPORT_HELP = "a DICOS Threat Detection Report (.dcm) or a folder of them"
EXPORT_OPTIONS = ("with_proposals", "overwrite")


def run_export(project: Project, out: str | Path, **opts) -> str:
    r = export_tdr(project, out, **opts)
    return f"wrote {r['files']} threat detection reports on {r['scans']} scans under {out}"
