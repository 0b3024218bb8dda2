"""Property: any mutation of a COCO or labelme file ends in success or a clean
XwbError, and a refused import leaves the store exactly as it was."""
import copy
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets.digest import snapshot_digest
from datasets.errors import XwbError
from datasets.formats.coco import export_coco, import_coco
from datasets.formats.labelme import export_labelme, import_labelme
from datasets.project import Project
from datasets.regions import Region
from tests.conftest import region_total, write_scans

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
mutation = st.tuples(st.integers(0, 10**6), st.sampled_from(["delete", "replace", "duplicate", "negate"]), json_values)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, muts):
    doc = copy.deepcopy(doc)
    for idx, op, val in muts:
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return val
        path = paths[idx % len(paths)]
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        k = path[-1]
        if op == "delete":
            del parent[k]
        elif op == "replace":
            parent[k] = val
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[k]))
        elif op == "negate" and isinstance(parent[k], (int, float)) and not isinstance(parent[k], bool):
            parent[k] = -parent[k] - 1
    return doc


def _setup(tmp_path_factory, name):
    root = tmp_path_factory.mktemp(name)
    p = Project.create(root / "proj")
    p.add_scans(write_scans(p.folder / "images", 2, size=(40, 50)))
    for im in p.images():
        m = np.zeros((6, 7), bool)
        m[1:5, 2:6] = True
        p.store.add_regions(im.id, [Region(1, polygon=np.array([[2, 2], [20, 3], [10, 30.0]])),
                                    Region(4, mask=m, mask_x=30, mask_y=20)])
        p.store.update_image(im.id, tags=["weapon"])
    return root, p


def _check(p, f, doc_or_bytes, importer):
    if isinstance(doc_or_bytes, bytes):
        f.write_bytes(doc_or_bytes)
    else:
        f.write_text(json.dumps(doc_or_bytes, allow_nan=True))
    before = snapshot_digest(p), region_total(p.store), \
        p.config.to_dict()
    try:
        importer(p, f)
    except XwbError as e:
        assert "\n" not in str(e)
        after = snapshot_digest(p), region_total(p.store), \
            p.config.to_dict()
        assert after == before


SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_mutated_coco(tmp_path_factory):
    root, p = _setup(tmp_path_factory, "coco")
    export_coco(p, root / "good.json", with_proposals=True)
    good = json.loads((root / "good.json").read_text())
    raw = (root / "good.json").read_bytes()

    @SETTINGS
    @given(st.lists(mutation, min_size=1, max_size=3), st.integers(0, len(raw)))
    def run(muts, cut):
        _check(p, root / "m.json", _mutate(good, muts), import_coco)
        _check(p, root / "t.json", raw[:cut], import_coco)

    run()
    p.close()


def test_mutated_labelme(tmp_path_factory):
    root, p = _setup(tmp_path_factory, "labelme")
    export_labelme(p, root / "lm")
    f = sorted((root / "lm").rglob("*.json"))[0]
    good = json.loads(f.read_text())

    @SETTINGS
    @given(st.lists(mutation, min_size=1, max_size=3))
    def run(muts):
        _check(p, f.with_name("m.json"), _mutate(good, muts), import_labelme)

    run()
    p.close()


SIZE_FUZZ = r"""
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30))  # a regression gets a MemoryError, not the machine
from hypothesis import given, settings, strategies as st
from datasets.errors import XwbError
from datasets.formats.coco import import_coco
from datasets.project import Project
from tests.conftest import rle_string
p = Project.open(sys.argv[1])
f = Path(sys.argv[1]) / "fuzz.json"
dims = st.integers(1, 10 ** 6)
real_w, real_h = st.just(50) | dims, st.just(40) | dims  # often the scan's real 50x40: then the RLE is decoded
runs = st.lists(st.integers(0, 2 ** 40), max_size=4)

@settings(max_examples=150, deadline=None, derandomize=True)
@given(real_w, real_h, real_w, real_h, runs, st.booleans(), st.booleans())
def run(w, h, rw, rh, r, as_text, whole):
    if whole:  # runs that cover the declared RLE size exactly: what a decoder would allocate for
        r = r + [max(0, rw * rh - sum(r))]
    c = rle_string(r) if as_text else r
    doc = {"images": [{"id": 1, "file_name": "images/scan_000.tiff", "width": w, "height": h}],
           "categories": [{"id": 1, "name": "firearm"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                            "segmentation": {"size": [rh, rw], "counts": c}}]}
    f.write_text(json.dumps(doc))
    try:
        import_coco(p, f)
    except XwbError as e:
        assert "\n" not in str(e)

run()
print("ok")
"""


def test_declared_sizes_never_allocate_before_the_real_size_is_known(tmp_path_factory):
    """Fuzz image and RLE sizes up to 10^6 x 10^6 and run lengths up to 2^40, under a 2 GB heap limit."""
    import subprocess
    import sys

    from tests.conftest import REPO

    root, p = _setup(tmp_path_factory, "sizes")
    p.close()
    r = subprocess.run([sys.executable, "-c", SIZE_FUZZ, str(root / "proj")], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
