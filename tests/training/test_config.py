"""Recipes are validated before anything runs: unknown keys and wrong types name their key path."""
import pytest
import yaml

from datasets.errors import XwbError
from tests.conftest import REPO
from training.recipes.config import load_config, parse_config


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_validate(path):
    data = yaml.safe_load(path.read_text())
    if "classes" in data and "task" not in data:
        pytest.skip("taxonomy file")
    cfg = load_config(path)
    assert cfg.model.encoder_weights is None  # no network by default


def test_required_recipes_exist():
    names = {p.name for p in (REPO / "configs").glob("*.yaml")}
    assert any("tiny" in n for n in names)
    kinds = {(load_config(REPO / "configs" / n).task, load_config(REPO / "configs" / n).model.arch)
             for n in names if n != "taxonomy.yaml"}
    assert ("seg", "Unet") in kinds and ("cls", "timm") in kinds
    assert {("seg", "FPN"), ("seg", "DeepLabV3Plus")} & kinds


def test_unknown_key_names_its_path():
    with pytest.raises(XwbError, match=r"cfg.yaml: model.archh: unknown key"):
        parse_config({"model": {"archh": "Unet"}}, "cfg.yaml")


def test_wrong_type_names_its_path():
    with pytest.raises(XwbError, match=r"optim.epochs: .*integer.*'many'"):
        parse_config({"optim": {"epochs": "many"}}, "cfg.yaml")
    with pytest.raises(XwbError, match=r"data.sampling"):
        parse_config({"data": {"sampling": "sometimes"}}, "cfg.yaml")


def test_overrides_are_yaml_scalars_and_validated():
    cfg = parse_config({}, "c", ["optim.epochs=3", "optim.lr=1e-4", "data.channels=[high]", "mlflow.register_model=false"])
    assert cfg.optim.epochs == 3 and cfg.optim.lr == 1e-4 and cfg.data.channels == ["high"]
    assert cfg.mlflow.register_model is False
    with pytest.raises(XwbError, match="optim.epochs"):
        parse_config({}, "c", ["optim.epochs=0"])
    with pytest.raises(XwbError, match="expected key=value"):
        parse_config({}, "c", ["optim.epochs"])


def test_flat_params_and_round_trip():
    cfg = parse_config({"task": "seg", "model": {"encoder": "resnet34"}}, "c")
    flat = cfg.flat()
    assert flat["model.encoder"] == "resnet34" and "optim.lr" in flat
    again = parse_config(yaml.safe_load(cfg.to_yaml()), "again")
    assert again == cfg


def test_task_and_loss_must_agree():
    with pytest.raises(XwbError, match="loss.name"):
        parse_config({"task": "cls", "loss": {"name": "dice_ce"}}, "c")


def test_recipe_reference_is_generated_from_the_schema_and_complete():
    """docs/RECIPES.md is `xwb recipe --markdown`: a new key without a meaning, or a stale file, fails here."""
    from tests.conftest import REPO
    from training.recipes.config import TrainConfig
    from training.recipes.reference import markdown

    doc = (REPO / "docs" / "RECIPES.md").read_text()
    assert doc == markdown(), "docs/RECIPES.md is stale: regenerate it with `xwb recipe --markdown > docs/RECIPES.md`"
    for name, f in TrainConfig.model_fields.items():
        assert f.description, name
        for key, g in getattr(f.annotation, "model_fields", {}).items():
            assert g.description, f"{name}.{key} has no meaning in the reference"
            assert f"`{name}.{key}`" in doc
    assert "`mlflow.register_model`" in doc and "`model.classes`" in doc  # keys that used to be hidden


def test_unknown_keys_get_the_nearest_known_one():
    with pytest.raises(XwbError, match=r"c: optim.epoch: unknown key; did you mean 'epochs'\?"):
        parse_config({"optim": {"epoch": 3}}, "c")
    with pytest.raises(XwbError, match=r"modle: unknown key; did you mean 'model'\?"):
        parse_config({"modle": {}}, "c")


def test_a_mistake_in_set_is_said_to_be_the_set_and_one_in_the_file_the_files():
    with pytest.raises(XwbError) as e:
        parse_config({"optim": {"epochs": 3}}, "recipe.yaml", ["optim.lr=0.1", "optim.epochs=zero"])
    assert str(e.value).startswith("--set optim.epochs=zero: optim.epochs: ")
    with pytest.raises(XwbError) as e:
        parse_config({"optim": {"epochs": 0}}, "recipe.yaml", ["optim.lr=0.1"])
    assert str(e.value).startswith("recipe.yaml: optim.epochs: ")
    with pytest.raises(XwbError) as e:
        parse_config({}, "recipe.yaml", ["optim.lrate=0.1"])
    assert str(e.value).startswith("--set optim.lrate=0.1: optim.lrate: unknown key")
    with pytest.raises(XwbError) as e:  # a value that passes the schema but not the cross-checks
        parse_config({"task": "seg"}, "recipe.yaml", ["loss.name=dice_cee"])
    assert str(e.value).startswith("--set loss.name=dice_cee: loss.name:") and "did you mean 'dice_ce'" in str(e.value)
    with pytest.raises(XwbError) as e:
        parse_config({"task": "seg", "loss": {"name": "bce"}}, "recipe.yaml", ["optim.lr=0.1"])
    assert str(e.value).startswith("recipe.yaml: loss.name: bce is for task cls")


def test_a_yaml_syntax_error_names_line_and_column(tmp_path):
    from training.recipes.config import load_config

    f = tmp_path / "r.yaml"
    f.write_text("task: seg\noptim:\n  epochs: [3\n  lr: 0.1\n")
    with pytest.raises(XwbError, match=r"r.yaml: not valid YAML at line \d+, column \d+"):
        load_config(f)
