import json

import pytest

from engine.config import ConfigError, RunConfig, normalise_imbalance
from engine.presets import PRESETS, preset


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
    ("data", "imbalance_type", "zigzag", "imbalance_type"),
    ("model", "arch", "resnet7", "arch"),
    ("method", "loss", "magic", "loss"),
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


def test_unknown_keys_in_a_config_file_are_refused():
    raw = preset("demo").to_dict()
    raw["optim"]["learning_rate"] = 0.1
    with pytest.raises(ConfigError, match="learning_rate"):
        RunConfig.from_dict(raw)


def test_every_preset_validates_and_small_factor_is_normalised(tmp_path):
    weights = tmp_path / "imagenet-weights.pth"
    weights.write_bytes(b"")
    for factory in PRESETS.values():
        config = factory()
        if config.model.freeze != "none" and not config.model.pretrained:  # Places-LT: the user's ImageNet weights
            config.model.pretrained = str(weights)
        config.validate()
    config = preset("demo")
    config.data.imbalance_ratio = 0.1
    assert config.validate().data.imbalance_ratio == 10.0


def test_ldam_drw_defaults_follow_the_paper_protocol():
    config = preset("cifar100-ldam-drw")
    assert (config.optim.epochs, config.optim.batch_size, config.optim.lr) == (200, 128, 0.1)
    assert (config.optim.momentum, config.optim.weight_decay, config.optim.warmup_epochs) == (0.9, 2e-4, 5)
    assert config.optim.decay_epochs() == [160, 180]
    assert (config.method.loss, config.method.train_rule) == ("ldam", "drw")


def test_the_config_lists_the_architectures_the_models_build():
    from engine.config import ARCHITECTURES
    from models import ModelSpec, base_family, create_model

    for arch in ARCHITECTURES:  # the models package names them without torch; every one builds
        assert create_model(ModelSpec(base_family(arch), arch, 3)).arch == arch


def test_recall_floor_defaults_to_the_papers_and_is_checked():
    config = preset("demo")
    assert config.recall_floor == 1e-3 and config.data.cut_seed == 0
    config.recall_floor = 0.5
    with pytest.raises(ConfigError, match="recall_floor"):
        config.validate()
    config.recall_floor = 0.0  # unfloored is allowed
    config.validate()
