"""DICOS Threat Detection Reports: written with the group-4010 attributes, read back into the same regions."""
from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest

from datasets import formats
from datasets.errors import XwbError
from datasets.formats.dicos_tdr import TDR_SOP_CLASS, scan_uids
from datasets.project import Project
from datasets.regions import Region
from workbench.cli import main

REQUIRED = ("SOPClassUID", "SOPInstanceUID", "Modality", "StudyInstanceUID", "SeriesInstanceUID", "TDRType",
            "ThreatDetectionAlgorithmAndVersion", "AlarmDecision", "AlarmDecisionTime", "NumberOfTotalObjects",
            "NumberOfAlarmObjects", "ThreatSequence")


@pytest.fixture
def ct(tmp_path):
    folder = tmp_path / "ct"
    assert main(["synth", str(folder), "--kind", "ct-baggage", "--count", "3", "--size", "32x32x48"]) == 0
    with Project.open(folder) as p:  # one model proposal too, on the first volume
        rec = next(r for r in p.store.images() if r.path.endswith("ct-baggage_0_00000.nii"))
        p.store.add_regions(rec.id, [Region(p.taxonomy.by_name("knife").id, voxels=np.ones((2, 3, 4), bool),
                                            mask_x=5, mask_y=6, mask_z=7, state="proposal",
                                            source="model:knife3d/2", score=0.625)])
    return folder


def _geometry(regs):
    return sorted((r.class_id, r.voxels.tobytes() if r.voxels is not None else b"", r.mask_x, r.mask_y, r.mask_z)
                  for r in regs)


def test_each_volume_gets_a_ground_truth_report_with_every_required_attribute(ct, tmp_path):
    out = tmp_path / "tdr"
    line = formats.export("tdr", Project.open(ct, readonly=True), out, with_proposals=True)
    files = sorted(out.rglob("*.tdr.dcm"))
    assert "4 threat detection reports on 3 scans" in line and len(files) == 4
    with Project.open(ct, readonly=True) as p:
        rec = next(r for r in p.store.images() if r.path.endswith("ct-baggage_0_00000.nii"))
        uid = scan_uids(p, rec)[0]
        accepted = p.store.regions(rec.id, state="accepted")
    gt = pydicom.dcmread(next(f for f in files if f.name.startswith("ct-baggage_0_00000.ground_truth")))
    assert gt.file_meta.MediaStorageSOPClassUID == TDR_SOP_CLASS == gt.SOPClassUID
    for k in REQUIRED:
        assert k in gt, k
    assert gt.TDRType == "GROUND_TRUTH" and gt.Modality == "TDR" and gt.NumberOfTotalObjects == len(accepted)
    pto = gt.ThreatSequence[0]
    assert pto.PotentialThreatObjectID == 1 and pto.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == uid
    a = pto.ATDAssessmentSequence[0]
    assert a.ThreatCategory in ("PROHIBITED_ITEM", "CONTRABAND", "ANOMALY") and a.ThreatCategoryDescription
    roi = pto.PTORepresentationSequence[0].ThreatROIVoxelSequence[0]
    assert len(roi.ThreatROIBase) == 3 and len(roi.ThreatROIExtents) == 3 and len(roi.ThreatROIBitmap) > 0
    machine = pydicom.dcmread(next(f for f in files if ".machine-" in f.name))
    assert machine.TDRType == "MACHINE" and machine.ThreatDetectionAlgorithmAndVersion == "model:knife3d/2"
    assert machine.AlarmDecision == "ALARM" and machine.NumberOfAlarmObjects == 1
    assert machine.ThreatSequence[0].ATDAssessmentSequence[0].ATDAssessmentProbability == pytest.approx(0.625)


def test_reports_read_back_as_the_same_regions_on_the_same_volumes(ct, tmp_path):
    out = tmp_path / "tdr"
    with Project.open(ct, readonly=True) as p:
        formats.export("tdr", p, out, with_proposals=True)
        before = {rec.path: p.store.regions(rec.id) for rec in p.store.images()}
    copy = tmp_path / "copy"
    shutil.copytree(ct, copy)
    with Project.open(copy) as p:
        for rec in p.store.images():
            for r in p.store.regions(rec.id):
                p.store.delete_region(r.id)
    assert main(["import", "tdr", str(copy), str(out)]) == 0
    with Project.open(copy, readonly=True) as p:
        for rec in p.store.images():
            got = p.store.regions(rec.id)
            assert _geometry(got) == _geometry(before[rec.path])
            for r in got:
                if r.state == "proposal":
                    assert r.source == "tdr:machine:model:knife3d/2" and r.score == pytest.approx(0.625)
                else:
                    assert r.source == "tdr:ground_truth" and r.score is None
    # the same reports again: nothing doubled
    with Project.open(copy) as p:
        s = formats.importer("tdr")(p, out)
    assert s.regions == 0 and s.duplicates == sum(len(v) for v in before.values())


def test_a_report_on_a_scan_the_project_lacks_or_a_file_that_is_no_report_is_refused_by_name(ct, tmp_path):
    out = tmp_path / "tdr"
    with Project.open(ct, readonly=True) as p:
        formats.export("tdr", p, out)
    f = sorted(out.rglob("*.tdr.dcm"))[0]
    ds = pydicom.dcmread(f)
    ds.ThreatSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID = "1.2.3.4"
    for rep in ds.ThreatSequence[0].PTORepresentationSequence:
        rep.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID = "1.2.3.4"
    ds.save_as(tmp_path / "stray.dcm")
    with Project.open(ct) as p:
        n = sum(len(p.store.regions(r.id)) for r in p.store.images())
        with pytest.raises(XwbError, match=r"stray.dcm: threat object 1: references scan 1.2.3.4, which is not in"):
            formats.importer("tdr")(p, tmp_path / "stray.dcm")
        with pytest.raises(XwbError, match="not a DICOS Threat Detection Report"):
            formats.importer("tdr")(p, pydicom.data.get_testdata_file("CT_small.dcm"))
        assert sum(len(p.store.regions(r.id)) for r in p.store.images()) == n


def test_a_dicom_scan_is_referenced_by_its_own_uid_and_2d_masks_round_trip(tmp_path):
    src = pydicom.data.get_testdata_file("CT_small.dcm")
    p = Project.create(tmp_path / "dx")
    (p.folder / "images").mkdir()
    shutil.copy(src, p.folder / "images" / "ct_small.dcm")
    p.add_scans([p.folder / "images" / "ct_small.dcm"])
    rec = p.store.images()[0]
    m = np.zeros((5, 7), bool)
    m[1:4, 2:6] = True
    poly = np.array([[40.0, 40.0], [60.0, 42.0], [50.0, 58.0]])
    p.store.add_regions(rec.id, [Region(1, mask=m, mask_x=10, mask_y=12), Region(2, polygon=poly)])
    formats.export("tdr", p, tmp_path / "out")
    (f,) = sorted((tmp_path / "out").rglob("*.tdr.dcm"))
    ds = pydicom.dcmread(f)
    assert ds.ThreatSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == \
        pydicom.dcmread(src).SOPInstanceUID
    for r in p.store.regions(rec.id):
        p.store.delete_region(r.id)
    formats.importer("tdr")(p, f)
    got = sorted(p.store.regions(rec.id), key=lambda r: r.class_id)
    assert got[0].mask is not None and np.array_equal(got[0].mask, m[1:4, 2:6]) and (got[0].mask_x, got[0].mask_y) == (12, 13)
    assert got[1].polygon is not None and np.allclose(got[1].polygon, poly)
    p.close()
