"""Evaluate, compare, promote, predict, prelabel and manifest-check on two real tiny versions."""
import json
import shutil
import urllib.request

import numpy as np
import pytest

from datasets.errors import XwbError
from datasets.project import Project
from datasets.regions import Region
from tests.training.conftest import TINY, client_for, make_synth, xwb
from training.versions.tracking import default_uri, using


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """A project with two registered versions: v1 trained a little, v2 barely moved from random."""
    from datasets.synth.build import synth_project
    from training.loop.run import train

    proj = synth_project(tmp_path_factory.mktemp("rev") / "rev", "baggage", 20, seed=2, size=(192, 256), unlabelled=3)
    a = train(TINY, proj, ["optim.epochs=3", "eval.overlays=0"], quiet=True)
    b = train(TINY, proj, ["optim.epochs=1", "optim.lr=1e-9", "eval.overlays=0", "model.arch=FPN"], quiet=True)
    assert (a.version, b.version) == ("1", "2")
    return proj


def test_evaluate_logs_a_run_and_reuses_it(versions):
    from training.evaluation.review import evaluate

    e = evaluate("models:/rev-seg/1", versions, quiet=True)
    assert not e.reused and e.split == "test" and "mIoU" in e.headline and "mPd_pfa1" in e.headline
    c = client_for(versions)
    run = c.get_run(e.run_id)
    assert run.data.tags["xwb.kind"] == "evaluation" and run.data.tags["xwb.model_version"] == "1"
    assert run.data.tags["xwb.dataset_digest"] == e.digest and "test_mIoU" in run.data.metrics
    arts = {a.path for a in c.list_artifacts(e.run_id, "evaluation/test")}
    assert {"evaluation/test/metrics.json", "evaluation/test/roc_pr.png", "evaluation/test/per_class.csv"} <= arts
    mv = c.get_model_version("rev-seg", "1")
    assert mv.tags["eval.test.run_id"] == e.run_id
    again = evaluate("models:/rev-seg/1", versions, quiet=True)
    assert again.reused and again.run_id == e.run_id and again.headline == pytest.approx(e.headline, nan_ok=True)
    forced = evaluate("models:/rev-seg/1", versions, force=True, quiet=True)
    assert not forced.reused and forced.run_id != e.run_id


def test_compare_table_report_and_run(versions):
    from training.evaluation.compare import compare

    cmp = compare("rev-seg", versions, quiet=True)
    assert [r["version"] for r in cmp.rows] == ["1", "2"]
    assert cmp.rows[1]["model"] == "FPN/resnet18" and cmp.rows[0]["trained_on"]
    assert "mIoU" in cmp.table and cmp.report.is_file()
    page = cmp.report.read_text()
    assert page.count("data:image/png;base64,") == 3 and "rev-seg" in page
    c = client_for(versions)
    run = c.get_run(cmp.run_id)
    assert run.data.tags["xwb.kind"] == "comparison" and run.data.tags["xwb.versions"] == "1,2"
    assert "v1_mIoU" in run.data.metrics and "v2_mIoU" in run.data.metrics
    assert "comparison/report.html" in {a.path for a in c.list_artifacts(cmp.run_id, "comparison")}
    evals = c.search_runs([run.info.experiment_id], "tags.`xwb.kind` = 'evaluation'")
    assert {r.data.tags["xwb.model_version"] for r in evals} >= {"1", "2"}
    # every figure with its bootstrap interval; v2 against v1 paired on the same scans; the small split said
    for r in cmp.rows:
        ci = r["ci"]["mIoU"]
        assert ci.value == pytest.approx(r["mIoU"]) and (ci.lo <= ci.value <= ci.hi or np.isnan(ci.lo))
    assert "[" in cmp.table.splitlines()[2]
    d = cmp.differences[0]
    assert d["version"] == "2" and d["baseline"] == "1"
    assert d["mIoU"].delta == pytest.approx(cmp.rows[1]["mIoU"] - cmp.rows[0]["mIoU"])
    assert d["mIoU"].verdict in ("better", "worse", "within noise")
    assert any("Pd at PFA 1 % needs" in n for n in cmp.notes)  # a test split of a handful of scans
    assert "Paired against v1" in page and "How far to trust" in page
    assert "op. point" in cmp.table and "(PFA 1 % on val)" in cmp.rows[0]["op"]
    assert "v1_mIoU_lo95" in run.data.metrics or np.isnan(cmp.rows[0]["ci"]["mIoU"].lo)


def test_promote_refuses_a_worse_version_unless_forced(versions):
    from training.evaluation.review import evaluate, promote

    m = "pixel_acc"
    good, bad = (evaluate(f"models:/rev-seg/{v}", versions, quiet=True).headline[m] for v in ("1", "2"))
    assert good > bad  # v2 is a barely trained network
    promote("rev-seg", "1", "champion", versions, metric=m)
    with pytest.raises(XwbError, match=r"refused: v2 pixel_acc .* < v1 \(@champion\)"):
        promote("rev-seg", "2", "champion", versions, metric=m)
    c = client_for(versions)
    assert c.get_model_version_by_alias("rev-seg", "champion").version in ("1", 1)
    with pytest.raises(XwbError, match="--reason"):
        promote("rev-seg", "2", "champion", versions, force=True, metric=m)
    note = promote("rev-seg", "2", "champion", versions, force=True, reason="field trial", metric=m)
    assert "forced" in note
    mv = c.get_model_version("rev-seg", "2")
    assert mv.tags["promotion.forced_reason"] == "field trial" and mv.tags["promotion.forced_by"]
    assert str(c.get_model_version_by_alias("rev-seg", "champion").version) == "2"
    note = promote("rev-seg", "1", "champion", versions, metric="mIoU")  # back: v1 is better, no force needed
    assert "paired bootstrap" in note and "ΔmIoU" in note


def test_prelabel_replaces_its_own_proposals_only(versions, tmp_path):
    from training.inference.outputs import prelabel

    proj = tmp_path / "copy"
    shutil.copytree(versions, proj)
    with Project.open(proj) as p:
        target = [r for r in p.store.images(status="new")][0]
        manual = Region(1, polygon=np.array([[5, 5], [40, 5], [40, 30]], float), author="ann")
        manual_id = p.store.add_region(target.id, manual)
    with using(default_uri(proj)):
        strict = prelabel("models:/rev-seg/2", proj, min_area=1, quiet=True, min_score=0.999)
        c1 = prelabel("models:/rev-seg/2", proj, min_area=1, quiet=True, min_score=0.0)
        c2 = prelabel("models:/rev-seg/2", proj, min_area=1, quiet=True, min_score=0.0)
        prelabel("models:/rev-seg/1", proj, images=[str(target.id)], min_area=1, quiet=True, min_score=0.0)
    assert c1["scans"] >= 1 and c1["regions"] > 0 and c1["regions"] == c2["regions"]
    assert strict["regions"] < c1["regions"]  # weak proposals are left out by default
    with Project.open(proj, readonly=True) as p:
        regs = p.store.regions(target.id)
        props = [r for r in regs if r.state == "proposal"]
        assert {r.source for r in props} <= {"model:rev-seg/2", "model:rev-seg/1"}
        assert all(r.score is not None and 0 < r.score <= 1 for r in props)
        total_v2 = sum(1 for rec in p.store.images() for r in p.store.regions(rec.id, state="proposal")
                       if r.source == "model:rev-seg/2")
        assert total_v2 == c1["regions"]  # re-running replaced, did not pile up
        kept = p.store.region(manual_id)
        assert kept.state == "accepted" and kept.author == "ann" and kept.source == "manual"


def test_versions_carry_operating_points_that_prelabel_uses(versions, tmp_path):
    import json

    from training.inference.outputs import prelabel
    from training.inference.predict import load_predictor

    proj = tmp_path / "copy"
    shutil.copytree(versions, proj)
    c = client_for(proj)
    tag = json.loads(c.get_model_version("rev-seg", "1").tags["operating_point"])
    assert tag["pfa"] == 0.01
    with using(default_uri(proj)):
        pred = load_predictor("models:/rev-seg/1")
        op = pred.spec["operating_point"]
        assert op["split"] == "val" and op["thresholds"] == tag["thresholds"] == pred.thresholds
        assert op["placed"] and set(op["thresholds"]) == set(pred.classes)
        for name in set(pred.classes) - set(op["placed"]):  # classes val cannot place keep the flat threshold
            assert op["thresholds"][name] == 0.5
        prelabel("models:/rev-seg/1", proj, min_area=1, quiet=True)  # default: the operating points
    with Project.open(proj, readonly=True) as p:
        props = [r for rec in p.store.images() for r in p.store.regions(rec.id, state="proposal")]
        names = {c.id: c.name for c in p.taxonomy.classes}
        implies = {c.name: set(c.implies) for c in p.taxonomy.classes}
        # the tags the proposed classes imply are proposed with them (a knife: weapon, contraband)
        for rec in p.store.images():
            classes = {names[r.class_id] for r in p.store.regions(rec.id, state="proposal")}
            tags = {t for t, src, _ in p.store.tag_proposals(rec.id) if src == "model:rev-seg/1"}
            assert set().union(*(implies[c] for c in classes)) <= tags <= set().union(*implies.values())
    assert all(r.score > pred.thresholds[names[r.class_id]] for r in props)
    assert pred.spec["implies"]["knife"] == ["weapon", "contraband"]


def test_predict_cli_writes_files_and_skips_unreadable(versions, tmp_path):
    bad = tmp_path / "broken.tiff"
    bad.write_bytes(b"not a tiff")
    out = tmp_path / "pred"
    scan = sorted((versions / "images").glob("*.tiff"))[0]
    r = xwb("predict", "models:/rev-seg/1", str(scan), str(bad), "--out", str(out), "--project", str(versions))
    assert r.returncode == 1, r.stderr
    assert "skipped" in r.stderr and "broken.tiff" in r.stderr
    doc = json.loads((out / f"{scan.stem}.json").read_text())
    assert doc["model"] == "models:/rev-seg/1" and set(doc["scores"]) >= {"firearm", "knife"}
    assert doc["tags"]["weapon"] == max(doc["scores"]["firearm"], doc["scores"]["knife"])  # implied tags
    import cv2

    lab = cv2.imread(str(out / f"{scan.stem}.labels.png"), cv2.IMREAD_UNCHANGED)
    assert lab.shape == (192, 256) and lab.max() <= 10
    assert (out / f"{scan.stem}.overlay.png").is_file()


def test_manifest_check_scores_flags_against_synthetic_truth(versions, tmp_path):
    from training.inference.outputs import manifest_check

    with using(default_uri(versions)):
        s = manifest_check("models:/rev-seg/1", versions, out=tmp_path / "m.csv", quiet=True)
    assert s["scans"] == 20 and 0 <= s["flagged"] <= 20
    assert "precision" in s and "recall" in s and s["truth_flags"] > 0
    import csv

    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert len(rows) == 20 and {"scan", "manifest", "found", "undeclared", "flag", "truth_flag"} <= set(rows[0])
    b = s["baselines"]  # flagging without looking, for scale
    share = sum(int(r["truth_flag"]) for r in rows) / 20
    assert b["flag_everything"] == {"precision": pytest.approx(share), "recall": 1.0}
    assert b["random_same_rate"]["recall"] == pytest.approx(s["flagged"] / 20)


def test_bad_model_uris_and_foreign_taxonomy(versions, tmp_path):
    r = xwb("evaluate", "models:/rev-seg/9", "--project", str(versions))
    assert r.returncode == 1 and "has no version 9 (versions: 1, 2)" in r.stderr
    r = xwb("evaluate", "models:/nothing/1", "--project", str(versions))
    assert r.returncode == 1 and "no registered model named 'nothing'" in r.stderr and "rev-seg" in r.stderr
    # a project whose taxonomy gives knife another id
    from datasets.taxonomy import Taxonomy, default_taxonomy_path

    tax = Taxonomy.load(default_taxonomy_path()).to_dict()
    for c in tax["classes"]:
        if c["name"] == "knife":
            c["id"] = 42
    other = make_synth(tmp_path / "other", count=6)
    cfg = other / "project.yaml"
    import yaml

    data = yaml.safe_load(cfg.read_text())
    data["taxonomy"] = tax
    cfg.write_text(yaml.safe_dump(data))
    r = xwb("evaluate", "models:/rev-seg/1", "--project", str(other), "--tracking-uri", default_uri(versions))
    assert r.returncode == 1 and "trained on another taxonomy" in r.stderr and "knife (model id 2, project id 42)" in r.stderr


def test_empty_split_is_refused(versions, tmp_path):
    proj = tmp_path / "copy"
    shutil.copytree(versions, proj)
    with Project.open(proj) as p:
        p.store.set_splits({r.id: "train" for r in p.images(split="test")}, reassign=True)
    r = xwb("evaluate", "models:/rev-seg/1", "--project", str(proj), "--force")
    assert r.returncode == 1 and "test split of rev has no labelled scans" in r.stderr


def test_mlflow_ui_serves_the_project_store(versions):
    import socket

    from training.versions.tracking import serve_ui, stop_ui

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, address = serve_ui(versions, port=port)
    try:
        assert address == f"http://127.0.0.1:{port}"
        body = urllib.request.urlopen(address + "/api/2.0/mlflow/registered-models/search", timeout=10).read()
        assert b"rev-seg" in body
    finally:
        stop_ui(proc)
