"""Named starting points: the offline demo and the CIFAR-100-LT paper setting of each method.

The CIFAR-100-LT presets are the LDAM-DRW protocol (ResNet-32, imbalance ratio 100, exp,
200 epochs, SGD 0.1 / 0.9 / 2e-4, batch 128) that "No One Left Behind" and the methods it
compares against report on; each differs only in the loss and the train rule. MiSLAS keeps that
protocol for its stage 1 but decays ×0.1 and ×0.01 (its ``*_stage1_mixup.yaml``), then runs its
10-epoch stage 2; "stage 2 on a checkpoint" runs only the second stage from a pretrained model.
RIDE follows its own CIFAR-100 configs (github.com/frank-xwang/RIDE-LongTailRecognition,
``configs/config_imbalance_cifar100_ride*.json``): the same schedule with DRW at epoch 160, but
Nesterov SGD with weight decay 5e-4 and warm-up 5 epochs (20 with distillation); the method adds
``RandomRotation(15)`` and the 5-epoch router stage. Distillation needs a teacher checkpoint and
"router on a checkpoint" a RIDE checkpoint: those two presets are refused until one is chosen.
"""
from __future__ import annotations

from collections.abc import Callable

from engine.config import DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig

DEMO = "Demo (offline, seconds)"
DEMO_PACO = "Demo · PaCo (two views, a few minutes)"
PACO = "CIFAR-100-LT · PaCo (400 epochs)"

# title → (loss, train rule)
CIFAR100_LT_METHODS: dict[str, tuple[str, str]] = {
    "CE": ("ce", "none"),
    "CE-DRW": ("ce", "drw"),
    "BSCE (balanced softmax)": ("bsce", "none"),
    "Focal": ("focal", "none"),
    "LDAM-DRW": ("ldam", "drw"),
    "LADE": ("lade", "none"),
    "FeaBal": ("feabal", "none"),
    "Logit adjustment": ("logit_adjust", "none"),
    "GML (from scratch)": ("gml", "none"),
}


def demo() -> RunConfig:
    """Bundled handwritten digits, long-tailed (ratio 10): trains in well under a minute on 2 CPU cores."""
    return RunConfig(
        data=DataConfig(dataset="demo", imbalance_ratio=10.0),
        model=ModelConfig(arch="resnet20"),
        optim=OptimConfig(epochs=12, batch_size=64, lr=0.05, warmup_epochs=1),
    )


def cifar100_lt(loss: str, rule: str) -> RunConfig:
    return RunConfig(
        data=DataConfig(dataset="cifar100", imbalance_ratio=100.0, imbalance_type="exp"),
        model=ModelConfig(arch="resnet32"),
        method=MethodConfig(loss=loss, train_rule=rule),
        optim=OptimConfig(),
    )


def paco() -> RunConfig:
    """PaCo's CIFAR-100-LT recipe (``sh/CIFAR100_train_imb0.01.sh`` of the official repository):
    ResNet-32, SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 128, 400 epochs, 10 warm-up
    epochs, ×0.1 after epoch 320 and ×0.01 after epoch 360; the method's defaults are the script's
    α, β, γ, τ, K. The official warm-up gives 1.1·lr in epoch 11 (its ``epoch <= warmup`` test);
    here warm-up ends at lr, and each decay starts one epoch earlier than there (see docs)."""
    return RunConfig(
        data=DataConfig(dataset="cifar100", imbalance_ratio=100.0, imbalance_type="exp"),
        model=ModelConfig(arch="resnet32"),
        method=MethodConfig(loss="paco"),
        optim=OptimConfig(epochs=400, batch_size=128, lr=0.05, momentum=0.9, weight_decay=5e-4, warmup_epochs=10,
                          decay_at=(0.8, 0.9), decay_factors=(0.1, 0.01)),
    )


def paco_demo() -> RunConfig:
    """PaCo on the bundled digits: the recipe's shape, short (ResNet-20, 20 epochs, queue 256). PaCo starts
    slowly (the class centres must outgrow the sample logits q·k/τ): 8 epochs reached 36 % test accuracy,
    20 epochs 64 % (docs/paco.md)."""
    config = paco()
    config.data = DataConfig(dataset="demo", imbalance_ratio=10.0)
    config.model = ModelConfig(arch="resnet20")
    config.method = MethodConfig(loss="paco", params={"queue_size": 256.0})
    config.optim.epochs, config.optim.batch_size, config.optim.warmup_epochs = 20, 64, 1
    return config


def _cifar_factory(loss: str, rule: str) -> Callable[[], RunConfig]:
    return lambda: cifar100_lt(loss, rule)


MISLAS_DECAY_FACTORS = (0.1, 0.01)  # MiSLAS stage 1: ×0.1 after epoch 160, ×0.01 after 180


def mislas(stage2_only: bool = False) -> RunConfig:
    """MiSLAS on CIFAR-100-LT, imbalance 100 (the official stage-2 values are the method's defaults)."""
    config = cifar100_lt("mislas", "none")
    config.optim.decay_factors = MISLAS_DECAY_FACTORS
    if stage2_only:
        config.method.stages = ["classifier"]
    return config


def demo_mislas() -> RunConfig:
    """Both MiSLAS stages on the bundled digits: 12 mixup epochs, then 4 classifier epochs."""
    config = demo()
    config.method = MethodConfig(loss="mislas", params={"stage2_epochs": 4, "stage2_lr": 0.05,
                                                        "smooth_head": 0.3, "smooth_tail": 0.0})
    config.optim.decay_factors = MISLAS_DECAY_FACTORS
    return config


# title → (method, warm-up epochs, stages to run); see the module docstring
RIDE_PRESETS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "RIDE (3 experts)": ("ride", 5, ()),
    "RIDE teacher (6 experts)": ("ride_teacher", 5, ()),
    "RIDE + distillation": ("ride_distill", 20, ()),
    "RIDE router on a checkpoint": ("ride", 5, ("router",)),
}
RIDE_CLI_NAMES = {"RIDE (3 experts)": "cifar100-ride", "RIDE teacher (6 experts)": "cifar100-ride-teacher",
                  "RIDE + distillation": "cifar100-ride-distill", "RIDE router on a checkpoint": "cifar100-ride-router"}


def ride(method: str = "ride", warmup: int = 5, stages: tuple[str, ...] = ()) -> RunConfig:
    """A RIDE preset on CIFAR-100-LT."""
    config = cifar100_lt(method, "drw")
    config.optim = OptimConfig(weight_decay=5e-4, nesterov=True, warmup_epochs=warmup)
    config.method.stages = list(stages)
    return config


def demo_ride() -> RunConfig:
    """RIDE's 3 experts and then its router on the bundled digits, in the official recipe's
    proportions (``configs/config_imbalance_cifar100_ride{,_ea}.json``: 200 epochs with 5 of warm-up
    and DRW at 80 %, then a 5-epoch router stage at 4× the batch): 30 expert epochs with 1 of
    warm-up, DRW at epoch 24, then 1 router epoch at 4× the batch. The digits are 8×8 scans, so
    16×16 loses nothing and costs a quarter of 32×32; batches of 32 give the experts 540 steps,
    which 12 epochs of 64 (the earlier preset: 108 steps, 2 router epochs) did not (Acc 71.5, one
    class at zero, ~45 s). Seeds 0–3 reached Acc 79.5–88.8 %, HM 59–87 %, no class at zero, in
    about 50 s of CPU time (docs/ride.md)."""
    config = demo()
    config.data.image_size = 16
    config.method = MethodConfig(loss="ride", train_rule="drw", params={"router_epochs": 1, "router_batch_size": 128})
    config.optim.epochs, config.optim.batch_size = 30, 32
    config.optim.nesterov, config.optim.weight_decay = True, 5e-4
    return config


DEMO_RIDE = "Demo · RIDE (3 experts + router, about a minute)"
DEMO_MISLAS = "Demo · MiSLAS (both stages, seconds)"
MISLAS = "CIFAR-100-LT · MiSLAS (both stages)"
MISLAS_STAGE2 = "CIFAR-100-LT · MiSLAS stage 2 on a checkpoint"

PRESETS: dict[str, Callable[[], RunConfig]] = {
    DEMO: demo,
    DEMO_MISLAS: demo_mislas,
    DEMO_PACO: paco_demo,
    **{f"CIFAR-100-LT · {title}": _cifar_factory(loss, rule) for title, (loss, rule) in CIFAR100_LT_METHODS.items()},
    MISLAS: mislas,
    MISLAS_STAGE2: lambda: mislas(stage2_only=True),
    DEMO_RIDE: demo_ride,
    **{f"CIFAR-100-LT · {title}": (lambda spec=spec: ride(*spec)) for title, spec in RIDE_PRESETS.items()},
    PACO: paco,
}

# short names for the command line
CLI_NAMES: dict[str, str] = {
    "demo": DEMO, "demo-mislas": DEMO_MISLAS,
    **{f"cifar100-{loss}" + ("-drw" if rule == "drw" else ""): f"CIFAR-100-LT · {title}"
       for title, (loss, rule) in CIFAR100_LT_METHODS.items()},
    "cifar100-mislas": MISLAS, "cifar100-mislas-stage2": MISLAS_STAGE2,
    "demo-ride": DEMO_RIDE, **{cli: f"CIFAR-100-LT · {title}" for title, cli in RIDE_CLI_NAMES.items()},
    "demo-paco": DEMO_PACO, "cifar100-paco": PACO,
}


def preset(name: str) -> RunConfig:
    """A fresh config for a preset title or its short CLI name."""
    title = CLI_NAMES.get(name, name)
    if title not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(CLI_NAMES)}")
    return PRESETS[title]()
