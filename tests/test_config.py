import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import RECALL_FLOOR, ConfigError, RunConfig, normalise_imbalance
from engine.knobs import settings
from engine.presets import PresetError, preset, preset_titles

ROOT = Path(__file__).resolve().parent.parent


def test_imbalance_conventions_mean_the_same():
    assert normalise_imbalance(0.01) == 100.0
    assert normalise_imbalance(100) == 100.0
    assert normalise_imbalance(1) == 1.0
    with pytest.raises(ConfigError, match="imbalance"):
        normalise_imbalance(0)


def test_json_round_trip_keeps_every_field():
    config = preset("cifar100-ldam-drw")
    config.method.params = {"max_margin": 0.4}
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(again.to_json())["optim"]["decay_at"] == [0.8, 0.9]


@pytest.mark.parametrize("section,name,value,field", [
    ("optim", "lr", -1.0, "lr"),
    ("optim", "lr", float("nan"), "lr"),
    ("optim", "epochs", 0, "epochs"),
    ("optim", "batch_size", 10**7, "batch_size"),
    ("optim", "momentum", 1.5, "momentum"),
    ("optim", "warmup_epochs", 12, "warmup_epochs"),  # as many as the demo's epochs: never at the full rate
    ("data", "imbalance_type", "zigzag", "imbalance_type"),
    ("model", "arch", "resnet7", "arch"),
    ("method", "loss", "magic", "loss"),
    ("method", "params", {"gamma": 2.0}, "gamma"),  # CE has no gamma: checked before any data loads
    ("data", "cut_seed", -1, "cut_seed"),
    ("model", "freeze", "features", "pretrained"),
])
def test_absurd_values_name_their_field(section, name, value, field):
    config = preset("demo")
    setattr(getattr(config, section), name, value)
    with pytest.raises(ConfigError) as error:
        config.validate()
    assert error.value.field_name == field
    assert field in str(error.value)


def test_every_problem_is_reported_at_once():
    config = preset("demo")
    config.optim.lr, config.optim.epochs, config.method.loss = -1.0, 3, "focal"
    config.method.params = {"gamma": 99.0}
    config.plugin.t1 = 0.0
    assert {error.field_name for error in config.problems()} == {"lr", "gamma", "t1"}
    config.optim.warmup_epochs = 3
    assert "warmup_epochs" in {error.field_name for error in config.problems()}


def test_unknown_keys_in_a_config_file_are_refused():
    raw = preset("demo").to_dict()
    raw["optim"]["learning_rate"] = 0.1
    with pytest.raises(ConfigError, match="learning_rate"):
        RunConfig.from_dict(raw)


def test_each_preset_resolves_to_exactly_the_config_it_was_as_python_code():
    snapshot = json.loads((ROOT / "tests" / "preset_snapshot.json").read_text())  # written by the old presets.py
    titles = preset_titles()
    for name, old in snapshot.items():
        config = preset(name)
        assert titles[name] == old["title"] and preset(old["title"]) == config
        new = json.loads(json.dumps(config.to_dict()))
        assert new.pop("plugin") == json.loads(json.dumps(RunConfig().plugin.__dict__))  # the plug-in's defaults
        renamed = {"amp": ("precision", "auto"), "workers": ("threads", 0)}  # issues 21/23; both were the defaults
        expected = {renamed.get(key, (key,))[0]: renamed.get(key, (key, value))[1] for key, value in old["config"].items()}
        expected.update(nproc=1, sync_batchnorm=False, collective_timeout=600.0)  # issue 19's, at their defaults
        assert new.pop("fp32_layers") is None and new == expected, name


def test_every_preset_validates_but_the_plugin_which_asks_for_its_checkpoint():
    for name in preset_titles():
        problems = [error.field_name for error in preset(name).problems()]
        # the plug-in's presets and Places-LT's fine-tuning start from the user's checkpoint / ImageNet weights
        asks = preset(name).plugin_run or name == "places_lt-paco"
        assert problems == (["pretrained"] if asks else []), name
    config = preset("demo")
    config.data.imbalance_ratio = 0.1
    assert config.validate().data.imbalance_ratio == 10.0


def test_the_plugin_preset_is_the_plugins_published_schedule():
    config = preset("plugin")
    assert config.plugin_run and config.method.loss == "gml"
    optim = config.optim
    assert (optim.epochs, optim.lr, optim.schedule, optim.warmup_epochs, optim.decay_at) == (10, 0.02, "cosine", 0, ())
    assert (optim.batch_size, optim.momentum, optim.weight_decay) == (128, 0.9, 2e-4)


def test_a_broken_preset_file_is_one_line_naming_file_line_and_field(tmp_path, monkeypatch):
    import engine.presets as presets

    (tmp_path / "10-mine.toml").write_text('[mine]\ntitle = "Mine"\nextends = "demo"\n\n[mine.optim]\nlearning = 1\n')
    (tmp_path / "00-demo.toml").write_text('[demo]\ntitle = "Demo"\n')
    monkeypatch.setattr(presets, "preset_folder", lambda: tmp_path)
    presets.presets.cache_clear()
    try:
        with pytest.raises(PresetError, match=r"10-mine.toml:6: mine.optim.learning: unknown setting"):
            presets.presets()
    finally:
        presets.presets.cache_clear()


def test_ldam_drw_defaults_follow_the_paper_protocol():
    config = preset("cifar100-ldam-drw")
    assert (config.optim.epochs, config.optim.batch_size, config.optim.lr) == (200, 128, 0.1)
    assert (config.optim.momentum, config.optim.weight_decay, config.optim.warmup_epochs) == (0.9, 2e-4, 5)
    assert config.optim.decay_epochs() == [160, 180]
    assert (config.method.loss, config.method.train_rule) == ("ldam", "drw")


def test_the_config_lists_the_architectures_the_models_build():
    from models import ModelSpec, architectures, base_family, create_model

    for arch in architectures():  # the models package names them without torch; every one builds
        assert create_model(ModelSpec(base_family(arch), arch, 3)).arch == arch


def test_choices_come_from_the_registries():
    from data import dataset_names
    from data.samplers import SAMPLERS
    from engine.methods import available_methods
    from engine.rules import RULES
    from models import architectures

    choices = {item.name: item.choices() for item in settings(RunConfig) if item.knob.choices is not None}
    assert list(choices["arch"]) == list(architectures())
    assert list(choices["dataset"]) == list(dataset_names())
    assert list(choices["loss"]) == list(available_methods())
    assert list(choices["train_rule"]) == list(RULES) and list(choices["sampler"]) == list(SAMPLERS)


def test_the_dataset_registry_titles_the_choices_and_sizes_image_size_0():
    from data import DATASET_KINDS
    from engine.knobs import setting

    assert setting(RunConfig, "dataset").choices() == {name: kind.title for name, kind in DATASET_KINDS.items()}
    config = RunConfig()
    config.data.image_size = 4
    assert [error.field_name for error in config.problems()] == ["image_size"]
    config.data.image_size = 0
    assert config.validate().data.image_size == 32  # 0: the dataset's own side
    config.data.dataset, config.data.image_size, config.data.imbalance_type = "imagenet_lt", 0, "none"
    config.data.root = "."
    assert config.validate().data.image_size == 224


def test_every_field_has_a_knob_and_field_names_are_unique():
    found = settings(RunConfig)
    leaves = [path for path, _ in _leaves(RunConfig())]
    assert sorted(item.path for item in found) == sorted(leaves)
    assert len({item.name for item in found}) == len(found)
    assert all(item.knob.label and item.knob.help.endswith(".") for item in found)


def _leaves(config, prefix=""):
    from dataclasses import fields, is_dataclass

    for item in fields(config):
        value = getattr(config, item.name)
        if is_dataclass(value):
            yield from _leaves(value, f"{prefix}{item.name}.")
        else:
            yield f"{prefix}{item.name}", value


def test_recall_floor_defaults_to_the_papers_and_is_checked():
    from engine.metrics import RECALL_FLOOR as METRICS_FLOOR

    config = preset("demo")
    assert config.recall_floor == RECALL_FLOOR == METRICS_FLOOR == 1e-3 and config.data.cut_seed == 0
    config.recall_floor = 0.5
    with pytest.raises(ConfigError, match="recall_floor"):
        config.validate()
    config.recall_floor = 0.0  # unfloored is allowed
    config.validate()


def test_the_config_imports_no_registry_and_no_method_imports_it_back():
    """engine/config.py and engine/knobs.py name registries by path; importing them loads no torch."""
    for module in ("engine/config.py", "engine/knobs.py", "engine/presets.py", "engine/settings_file.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {name for name in imported if name and name.startswith(("engine.methods", "models", "torch"))}
    code = ("import sys, engine.config, engine.presets; engine.presets.preset('demo'); "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('engine.methods')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_configuration_docs_list_every_setting():
    from tools.config_docs import settings_table

    text = (ROOT / "docs" / "configuration.md").read_text()
    assert settings_table() in text, "docs/configuration.md is stale: run python tools/config_docs.py"
