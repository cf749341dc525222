"""The settings of one plug-in run (classifier re-training + ensemble), with validation and JSON.

Defaults: "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630) re-trains only the
classifier with GML for a few epochs; the text we could read gives no schedule for that stage,
so the optimiser follows the classifier re-training stage of MiSLAS (Zhong et al., CVPR 2021,
github.com/dvlab-research/MiSLAS, ``config/cifar100/cifar100_imb001_stage2_mislas.yaml`` and
``train_stage2.py``), the stage-2 code the same group's follow-up (BTM, github.com/yuhao318/BTM)
builds on: 10 epochs, SGD with momentum 0.9, batch 128, weight decay 2e-4, a cosine schedule to
zero and a classifier learning rate of 0.1 × 0.2 = 0.02, starting from the old classifier.
Instance sampling, as the brief and GML ask (GML already balances classes). docs/plugin.md
lists the fields and the measurements behind the other defaults.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from data.samplers import SAMPLERS
from engine.config import (ARCHITECTURES, OPTIMIZERS, TRAIN_RULES, ConfigError, DataConfig, JsonConfig, OptimConfig,
                           check_choice, check_device, check_range, check_sgd_settings)

INITS = ("old", "fresh")  # the new classifier starts as a copy of the old one, or re-initialised
TUNE_SCHEDULES = ("cosine", "constant")


@dataclass
class TuneConfig(JsonConfig):
    checkpoint: str = ""  # the pretrained model: ours, or a foreign state dict
    data: DataConfig = field(default_factory=DataConfig)
    loss: str = "gml"  # any registered method ("Loss Type for Tuning")
    loss_params: dict[str, float] = field(default_factory=dict)  # overrides of the loss's defaults
    epochs: int = 10  # 0 = "freeze all parameters": evaluate the old model only
    batch_size: int = 128
    lr: float = 0.02
    momentum: float = 0.9  # SGD only
    weight_decay: float = 2e-4
    optimizer: str = "sgd"
    schedule: str = "cosine"  # cosine to zero over the epochs, or constant
    sampler: str = "instance"
    train_rule: str = "none"  # class weights / resampling while tuning (GML balances classes itself)
    init: str = "old"
    ensemble: bool = True
    t1: float = 1.0  # temperature of the new classifier in the ensemble
    t2: float = 1.0  # temperature of the old classifier
    search_temperatures: bool = False  # choose (t1, t2) on a held-out split of the training data
    validation_fraction: float = 0.1  # the held-out share of each class (search only)
    cache_features: bool = True  # run the frozen backbone once and train on cached features
    feature_passes: int = 4  # augmented passes cached when augmentation is on
    arch: str = ""  # override when the checkpoint cannot tell its architecture
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU threads; 0 = the machine's fixed default (engine.cpu_policy); config.json records the count
    runs_dir: str = ""
    experiment: str = ""
    save_model: bool = True

    @property
    def evaluate_only(self) -> bool:
        """"Pretrained (freezing all parameters)": nothing trains, the old model is reported."""
        return self.epochs == 0

    def validate(self) -> TuneConfig:
        """Check every field; raise ConfigError naming the first bad one. Returns self."""
        from engine.methods import available_methods, capability_error, method_class

        if not self.checkpoint:
            raise ConfigError("checkpoint", "choose the pretrained model file to re-train")
        self.data.validate()
        check_choice("loss", self.loss, tuple(available_methods()))
        cannot_repair = capability_error(method_class(self.loss), repair=True)
        if cannot_repair:
            raise ConfigError("loss", cannot_repair)
        check_range("epochs", self.epochs, 0, 1000)
        check_sgd_settings(self)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, TUNE_SCHEDULES)
        check_choice("sampler", self.sampler, tuple(SAMPLERS))
        check_choice("train_rule", self.train_rule, TRAIN_RULES)
        check_choice("init", self.init, INITS)
        for name in ("t1", "t2"):
            check_range(name, getattr(self, name), 1e-3, 1e3)
        check_range("validation_fraction", self.validation_fraction, 0.01, 0.5)
        check_range("feature_passes", self.feature_passes, 1, 100)
        if self.arch:
            check_choice("arch", self.arch, ARCHITECTURES)
        check_range("seed", self.seed, 0, 2**32 - 1)
        check_range("threads", self.threads, 0, 1024)
        check_device(self.device)
        if self.search_temperatures and not self.ensemble:
            raise ConfigError("search_temperatures", "the temperature search tunes the ensemble; switch the ensemble on")
        if self.search_temperatures and self.evaluate_only:
            raise ConfigError("search_temperatures", "with 0 epochs there is no new classifier to ensemble")
        if any(not isinstance(v, (int, float)) or not math.isfinite(v) for v in self.loss_params.values()):
            raise ConfigError("loss_params", "every loss hyperparameter must be a finite number")
        return self

    def optim(self) -> OptimConfig:
        """The re-training stage's optimiser: no warm-up, cosine to zero (or constant)."""
        return OptimConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, momentum=self.momentum,
                           weight_decay=self.weight_decay, optimizer=self.optimizer, schedule=self.schedule,
                           warmup_epochs=0, decay_at=(), decay_factors=())
