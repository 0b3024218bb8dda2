"""Taxonomy: the tags a class implies (how a segmentation model gives image tags)."""
import pytest

from datasets.errors import XwbError
from datasets.taxonomy import Taxonomy, default_taxonomy_path


def test_default_taxonomy_implies_the_synthetic_tags():
    from datasets.synth.build import CLASS_TAGS

    tax = Taxonomy.load(default_taxonomy_path())
    for name, tags in CLASS_TAGS.items():  # what the generator tags a scan with, the taxonomy implies
        assert set(tax.by_name(name).implies) == {*tags, "contraband"}
    assert not tax.by_name("laptop").implies
    again = Taxonomy.from_dict(tax.to_dict())
    assert again.by_name("knife").implies == ("weapon", "contraband")


def test_implied_tags_take_the_highest_class():
    tax = Taxonomy.load(default_taxonomy_path())
    got = tax.implied_tags({"firearm": 0.2, "knife": 0.7, "drugs": 0.1, "tool": 0.9})
    assert got == {"weapon": 0.7, "contraband": 0.7, "narcotics": 0.1}


def test_an_implied_tag_must_be_a_tag():
    d = {"classes": [{"id": 1, "name": "knife", "color": "#ff0000", "implies": ["weapons"]}], "tags": ["weapon"]}
    with pytest.raises(XwbError, match=r"classes\[0\]\.implies: weapons not in"):
        Taxonomy.from_dict(d, where="project.yaml")
