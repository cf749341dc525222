"""The published recipes on ImageNet-LT, iNaturalist 2018 and Places-LT, as presets.

Each :class:`Recipe` restates an official configuration (read in the repository named by
``source``; no code copied) and carries the top-1 its authors published for it (``published``,
with where it is printed). Where no official configuration exists the recipe says so and how it
was put together (``note``). Many / medium / few use the >100 / 20–100 / <20 training-image
thresholds (``engine.metrics``), as OLTR, decoupling, RIDE and PaCo report them.

Common to all: SGD momentum 0.9, ``RandomResizedCrop(224)`` + flip (+ ``ColorJitter(0.4, 0.4,
0.4, 0)`` where ``color_jitter`` is 0.4: the loaders of decoupling and RIDE on ImageNet-LT and
of MiSLAS everywhere; not decoupling's or RIDE's iNaturalist loaders), evaluation at resize 256 +
centre crop 224, ImageNet statistics (iNaturalist's own for it). Learning rates are the official
global ones for the official global batch; on fewer GPUs keep the batch (gradient accumulation
is not built in) or scale the rate linearly with it, as PaCo's README recommends.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import DataConfig, MethodConfig, ModelConfig, OptimConfig, RunConfig

LOADER_WORKERS = 8  # decoding processes per run (the official scripts use 12–48 on 4–8 GPUs)
DATASET_TITLES = {"imagenet_lt": "ImageNet-LT", "inat2018": "iNaturalist 2018", "places_lt": "Places-LT"}


@dataclass(frozen=True)
class Recipe:
    """One published setting: data, model, method, optimiser, schedule, and what it reached."""

    name: str  # the CLI name, e.g. "imagenet_lt-ce"
    method_title: str
    dataset: str
    arch: str
    loss: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    published: str  # the published top-1 and where it is printed
    source: str  # the official configuration the values come from
    schedule: str = "cosine"
    warmup_epochs: int = 0
    decay_at: tuple[float, ...] = ()
    decay_factors: tuple[float, ...] = ()
    nesterov: bool = False
    color_jitter: float = 0.0
    train_rule: str = "none"
    drw_epoch: int = 0
    params: dict[str, float] = field(default_factory=dict)
    freeze: str = "none"
    note: str = ""

    @property
    def title(self) -> str:
        return f"{DATASET_TITLES[self.dataset]} · {self.method_title}"

    def config(self) -> RunConfig:
        return RunConfig(
            data=DataConfig(dataset=self.dataset, imbalance_type="none", image_size=224,
                            color_jitter=self.color_jitter, loader_workers=LOADER_WORKERS),
            model=ModelConfig(arch=self.arch, freeze=self.freeze),
            method=MethodConfig(loss=self.loss, params=dict(self.params), train_rule=self.train_rule,
                                drw_epoch=self.drw_epoch),
            optim=OptimConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, momentum=0.9,
                              weight_decay=self.weight_decay, nesterov=self.nesterov, schedule=self.schedule,
                              warmup_epochs=self.warmup_epochs, decay_at=self.decay_at,
                              decay_factors=self.decay_factors),
        )


DECOUPLING = "facebookresearch/classifier-balancing"
MISLAS = "dvlab-research/MiSLAS"
RIDE = "frank-xwang/RIDE-LongTailRecognition"
PACO = "dvlab-research/Parametric-Contrastive-Learning"
BALMS = "jiawei-ren/BalancedMetaSoftmax-Classification"

# MiSLAS stage 2 on the large benchmarks (config/{imagenet,ina2018}/*_stage2_mislas.yaml)
_MISLAS_STAGE2 = {"smooth_head": 0.3, "smooth_tail": 0.0, "shift_bn": 1.0, "lr_factor": 0.05,
                  "stage2_epochs": 10.0, "stage2_lr": 0.1}
# PaCo's ImageNet-scale MoCo settings (paco_lt.py defaults: moco-dim 128, moco-k 8192, moco-m 0.999)
_PACO = {"alpha": 0.05, "beta": 1.0, "gamma": 1.0, "temperature": 0.2, "queue_size": 8192.0,
         "projection_dim": 128.0, "key_momentum": 0.999}
_LDAM_NOTE = ("LDAM-DRW publishes no configuration for this dataset: decoupling's joint protocol with the LDAM "
              "loss (cosine head, s = 30, max margin 0.5) and DRW (β = 0.9999) for the last third of the run")

RECIPES: tuple[Recipe, ...] = (
    # --- ImageNet-LT ------------------------------------------------------------------------------------
    Recipe("imagenet_lt-ce", "CE (ResNeXt-50, 90 epochs)", "imagenet_lt", "resnext50_32x4d", "ce", 90, 512, 0.2, 5e-4,
           "44.4 (decoupling README, joint instance-balanced ResNeXt-50)",
           f"{DECOUPLING} config/ImageNet_LT/feat_uniform.yaml", color_jitter=0.4),
    Recipe("imagenet_lt-bsce", "BSCE (ResNet-10, 90 epochs)", "imagenet_lt", "resnet10", "bsce", 90, 512, 0.2, 5e-4,
           "41.8 (Balanced Softmax paper; unconfirmed here — the README lists BALMS 41.6 and softmax 34.8)",
           f"{BALMS} config/ImageNet_LT/balanced_softmax_resnet10.yaml", color_jitter=0.4),
    Recipe("imagenet_lt-ldam-drw", "LDAM-DRW (ResNet-50, 90 epochs)", "imagenet_lt", "resnet50", "ldam", 90, 512, 0.2,
           5e-4, "not published by the LDAM-DRW authors (third-party tables vary)", "kaidic/LDAM-DRW (loss only)",
           color_jitter=0.4, train_rule="drw", drw_epoch=60, note=_LDAM_NOTE),
    Recipe("imagenet_lt-mislas", "MiSLAS (ResNet-50, 180 + 10 epochs)", "imagenet_lt", "resnet50", "mislas", 180, 256,
           0.1, 5e-4, "52.7 (stage 1 with mixup: 45.5; MiSLAS README)",
           f"{MISLAS} config/imagenet/imagenet_resnet50_stage{{1_mixup,2_mislas}}.yaml", color_jitter=0.4,
           params={"mixup_alpha": 0.2, **_MISLAS_STAGE2}),
    Recipe("imagenet_lt-ride", "RIDE (ResNeXt-50, 3 experts + router)", "imagenet_lt", "resnext50_32x4d", "ride", 100,
           256, 0.1, 2e-4, "55.7 (RIDE MODEL_ZOO, 3 experts with expert assignment)",
           f"{RIDE} configs/config_imagenet_lt_resnext50_ride{{,_ea}}.json", schedule="step", warmup_epochs=5,
           decay_at=(0.6, 0.8), decay_factors=(0.1, 0.01), nesterov=True, color_jitter=0.4, train_rule="drw",
           drw_epoch=80, params={"reweight_factor": 0.02, "top_choices": 50.0}),
    Recipe("imagenet_lt-paco", "PaCo (ResNet-50, 400 epochs)", "imagenet_lt", "resnet50", "paco", 400, 128, 0.02, 5e-4,
           "57.0 (PaCo README; ResNeXt-50 58.2)", f"{PACO} PaCo/LT/sh/ImageNetLT_train_R50.sh", warmup_epochs=10,
           params=dict(_PACO)),
    # --- iNaturalist 2018 -----------------------------------------------------------------------------------
    Recipe("inat2018-ce", "CE (ResNet-50, 90 epochs)", "inat2018", "resnet50", "ce", 90, 512, 0.2, 1e-4,
           "61.7 (decoupling, joint 90 epochs; RIDE MODEL_ZOO)", f"{DECOUPLING} config/iNaturalist18/feat_unifrom.yaml"),
    Recipe("inat2018-bsce", "BSCE (ResNet-50, 90 epochs)", "inat2018", "resnet50", "bsce", 90, 512, 0.2, 1e-4,
           "not in the Balanced Softmax README (no iNaturalist configuration there)",
           f"{DECOUPLING} config/iNaturalist18/feat_unifrom.yaml with the Balanced Softmax loss",
           note="decoupling's iNaturalist joint protocol with the Balanced Softmax loss"),
    Recipe("inat2018-ldam-drw", "LDAM-DRW (ResNet-50, 90 epochs)", "inat2018", "resnet50", "ldam", 90, 512, 0.2, 1e-4,
           "68.0 (LDAM-DRW paper: top-1 error 32.0; not checked here)", "kaidic/LDAM-DRW (loss only)",
           train_rule="drw", drw_epoch=60, note=_LDAM_NOTE),
    Recipe("inat2018-mislas", "MiSLAS (ResNet-50, 200 + 10 epochs)", "inat2018", "resnet50", "mislas", 200, 256, 0.1,
           1e-4, "71.6 (stage 1 with mixup: 66.9; MiSLAS README)",
           f"{MISLAS} config/ina2018/ina2018_resnet50_stage{{1_mixup,2_mislas}}.yaml", color_jitter=0.4,
           params={"mixup_alpha": 0.2, **_MISLAS_STAGE2}),
    Recipe("inat2018-ride", "RIDE (ResNet-50, 3 experts + router)", "inat2018", "resnet50", "ride", 100, 512, 0.2, 2e-4,
           "71.2 (RIDE MODEL_ZOO, 3 experts with expert assignment)",
           f"{RIDE} configs/config_iNaturalist_resnet50_ride{{,_ea}}.json", schedule="step", warmup_epochs=5,
           decay_at=(0.6, 0.8), decay_factors=(0.1, 0.01), nesterov=True, train_rule="drw", drw_epoch=80,
           params={"reweight_factor": 0.015, "top_choices": 50.0}),
    Recipe("inat2018-paco", "PaCo (ResNet-50, 400 epochs)", "inat2018", "resnet50", "paco", 400, 128, 0.02, 1e-4,
           "73.2 (PaCo README)", f"{PACO} PaCo/LT/sh/Inat_train_R50.sh", warmup_epochs=10, params=dict(_PACO)),
    # --- Places-LT ---------------------------------------------------------------------------------------
    Recipe("places_lt-paco", "PaCo (ResNet-152 from ImageNet weights, 30 epochs)", "places_lt", "resnet152", "paco", 30,
           128, 0.02, 5e-4, "41.2 (PaCo README)", f"{PACO} PaCo/LT/sh/PlacesLT_train_R152.sh, paco_fp16_places.py",
           warmup_epochs=5, freeze="last_block", params={**_PACO, "sim_query": 1.0},
           note="needs --pretrained: torchvision's ImageNet ResNet-152 weights file (resnet152-394f9c45.pth), which "
                "both encoders start from; only layer4's last block, the BatchNorm layers, the projection and the "
                "class centres train, as the official script freezes the other convolutions"),
)

LARGE_PRESETS = {recipe.title: recipe.config for recipe in RECIPES}
LARGE_CLI_NAMES = {recipe.name: recipe.title for recipe in RECIPES}
