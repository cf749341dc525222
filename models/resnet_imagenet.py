"""The ImageNet ResNets of the large benchmarks, from torchvision's definitions.

He et al. 2016 (arXiv 1512.03385) and Xie et al. 2017 (ResNeXt, arXiv 1611.05431), built with
``torchvision.models.resnet``'s ``ResNet``, ``BasicBlock`` and ``Bottleneck`` (stride on the 3×3
convolution, projection shortcuts, torchvision's initialisation):

- ``resnet10``: BasicBlock [1, 1, 1, 1], OLTR's ImageNet-LT baseline (github.com/zhmiao/
  OpenLongTailRecognition-OLTR ``models/ResNet10Feature.py``), 512-d features;
- ``resnet50``: Bottleneck [3, 4, 6, 3] (iNaturalist; MiSLAS and PaCo on ImageNet-LT);
- ``resnext50_32x4d``: the same with 32 groups of width 4 (decoupling, RIDE, PaCo on ImageNet-LT);
- ``resnet152``: Bottleneck [3, 8, 36, 3] (Places-LT, from ImageNet weights).

The trunk's modules keep torchvision's names (``conv1``, ``bn1``, ``layer1``…``layer4``), so
torchvision's ImageNet weights and the official long-tail checkpoints (decoupling's ``feat_model``,
MiSLAS's ``state_dict_model``, PaCo's ``encoder_q``, all with DataParallel's ``module.``) load by
name; the classifier is ``linear`` (their ``fc``, renamed when a file is read). Pooling is
adaptive (the official models' ``AvgPool2d(7)`` needs 224 inputs; for 224 both are equal), so the
tiny tests run at 64 px.

This is the ``imagenet_resnet`` family; ``ImageNetTrunk`` and :func:`make_stage` serve the
multi-expert (RIDE) and momentum-contrast (PaCo) families.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from errors import UserError
from models import IMAGENET_ARCHITECTURES
from models.base import ModelSpec
from models.heads import SingleHeadModel, infer_head
from models.registry import UnrecognisedWeights, register_family

# arch → (block, blocks per stage, groups, width per group)
BLUEPRINTS: dict[str, tuple[type[nn.Module], tuple[int, int, int, int], int, int]] = {
    "resnet10": (BasicBlock, (1, 1, 1, 1), 1, 64),
    "resnet50": (Bottleneck, (3, 4, 6, 3), 1, 64),
    "resnext50_32x4d": (Bottleneck, (3, 4, 6, 3), 32, 4),
    "resnet152": (Bottleneck, (3, 8, 36, 3), 1, 64),
}
TRUNK_MODULES = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")
STAGE_PLANES = (64, 128, 256, 512)
_BLOCK_KEY = re.compile(r"^layer([1-4])\.(\d+)\.")


def blueprint(arch: str) -> tuple[type[nn.Module], tuple[int, int, int, int], int, int]:
    if arch not in BLUEPRINTS:
        raise UserError(f"unknown ImageNet architecture {arch!r}; choose one of {', '.join(IMAGENET_ARCHITECTURES)}")
    return BLUEPRINTS[arch]


def feature_dim(arch: str) -> int:
    block = blueprint(arch)[0]
    return STAGE_PLANES[-1] * block.expansion


def adopt_trunk(module: nn.Module, arch: str) -> int:
    """Put torchvision's ``arch`` trunk (freshly initialised, torchvision's rule) on ``module``
    under torchvision's names; returns the pooled feature width."""
    block, layers, groups, width = blueprint(arch)
    net = ResNet(block, list(layers), groups=groups, width_per_group=width)
    for name in TRUNK_MODULES:
        module.add_module(name, getattr(net, name))
    return net.fc.in_features


def trunk_features(trunk: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """torchvision's ResNet forward up to the pooled features, for any module holding its trunk."""
    x = trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(x))))
    x = trunk.layer4(trunk.layer3(trunk.layer2(trunk.layer1(x))))
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


def make_stage(arch: str, inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """One ResNet stage of ``arch``'s block as torchvision's ``_make_layer`` builds it (a projection
    shortcut when the shape changes), at any width: RIDE's reduced-width experts."""
    block, _, groups, width = blueprint(arch)
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(planes * block.expansion))
    first = block(inplanes, planes, stride, downsample, groups=groups, base_width=width)
    rest = [block(planes * block.expansion, planes, groups=groups, base_width=width) for _ in range(blocks - 1)]
    return nn.Sequential(first, *rest)


def torchvision_init(module: nn.Module) -> None:
    """torchvision's ResNet initialisation: Kaiming-normal (fan out) convolutions, BatchNorm 1 / 0."""
    for child in module.modules():
        if isinstance(child, nn.Conv2d):
            nn.init.kaiming_normal_(child.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(child, nn.BatchNorm2d):
            nn.init.ones_(child.weight)
            nn.init.zeros_(child.bias)


class ImageNetTrunk(nn.Module):
    """torchvision's trunk of ``arch`` with ``features``; PaCo's encoders are one with a projection ``fc``."""

    def __init__(self, arch: str):
        super().__init__()
        self.feature_dim = adopt_trunk(self, arch)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return trunk_features(self, x)


@register_family("imagenet_resnet", priority=5)
class ImageNetResNet(SingleHeadModel):
    """An ImageNet ResNet / ResNeXt with a ``linear``, ``cosine`` or ``lws`` head."""

    trunk_prefixes = ("",)  # where torchvision's trunk tensors go (engine.checkpoints.load_trunk_into)
    trunk_modules = TRUNK_MODULES

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.feature_dim = adopt_trunk(self, spec.arch)
        self.add_heads(spec)
        self.add_scaling()

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        """A torchvision-layout ResNet (``conv1`` 7×7, ``layer4``): torchvision's ImageNet weights,
        decoupling's, MiSLAS's and our own files."""
        if not is_imagenet_trunk(state_dict):
            return None
        arch = infer_imagenet_arch(state_dict)
        num_classes, head = infer_head(state_dict, feature_dim(arch))
        return ModelSpec(cls.name, arch, num_classes, head)

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """The single-head repairs, and decoupling's LWS scales (``adapt_scales``)."""
        return adapt_scales(super().checkpoint_filter(state_dict, notes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised images → pooled features ``(N, 512 or 2048)``."""
        return trunk_features(self, x)

    def parts(self) -> dict[str, list[nn.Module]]:
        """Also ``last_block`` (layer4's last block) and ``trunk_batchnorm``: a pretrained trunk's fine-tuning."""
        return {**super().parts(), **trunk_parts(self)}


def trunk_parts(trunk: nn.Module) -> dict[str, list[nn.Module]]:
    """``last_block`` and ``trunk_batchnorm`` of a module holding torchvision's trunk."""
    return {"last_block": [trunk.layer4[-1]],
            "trunk_batchnorm": [m for m in trunk.modules() if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm))]}


def adapt_scales(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Decoupling's LWS classifier keeps its per-class scales as ``scales`` (C,) beside ``fc``
    (classifier-balancing ``models/TauNormClassifier.py``): they become ``lws.learned_norm`` (1, C)."""
    adapted = dict(state_dict)
    if "scales" in adapted and "lws.learned_norm" not in adapted:
        adapted["lws.learned_norm"] = adapted.pop("scales").reshape(1, -1)
    return adapted


def is_imagenet_trunk(state_dict: Mapping[str, torch.Tensor], prefix: str = "") -> bool:
    conv1 = state_dict.get(f"{prefix}conv1.weight")
    return conv1 is not None and tuple(conv1.shape[-2:]) == (7, 7) and \
        any(key.startswith(f"{prefix}layer4.") for key in state_dict)


def infer_imagenet_arch(state_dict: Mapping[str, torch.Tensor], prefix: str = "") -> str:
    """The architecture of a torchvision-layout trunk from its blocks and group widths."""
    blocks = {stage: set() for stage in "1234"}
    for key in state_dict:
        match = _BLOCK_KEY.match(key.removeprefix(prefix)) if key.startswith(prefix) else None
        if match:
            blocks[match.group(1)].add(int(match.group(2)))
    counts = tuple(len(blocks[stage]) for stage in "1234")
    bottleneck = f"{prefix}layer1.0.conv3.weight" in state_dict
    conv2 = state_dict.get(f"{prefix}layer1.0.conv2.weight")
    groups = int(conv2.shape[0] // conv2.shape[1]) if conv2 is not None and bottleneck else 1
    for arch, (block, layers, arch_groups, _) in BLUEPRINTS.items():
        if layers == counts and (block is Bottleneck) == bottleneck and arch_groups == groups:
            return arch
    kind = f"{'Bottleneck' if bottleneck else 'BasicBlock'} {list(counts)}" + (f", {groups} groups" if groups > 1 else "")
    raise UnrecognisedWeights(f"it is an ImageNet ResNet ({kind}) this app does not build; it builds "
                              f"{', '.join(IMAGENET_ARCHITECTURES)}")
