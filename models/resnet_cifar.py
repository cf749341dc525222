"""ResNet-20/32/44/56/110 for 32×32 images, as in He et al. 2016 (arXiv 1512.03385), §4.2.

Follows the CIFAR ResNet of LDAM-DRW (github.com/kaidic/LDAM-DRW, ``models/resnet_cifar.py``),
itself after Yerlan Idelbayev's reference implementation: three stages of ``n`` basic blocks
with 16, 32 and 64 channels (depth 6n + 2), the parameter-free option-A shortcut (stride-2
subsampling plus zero channels), kaiming-normal initialisation of convolutions and linear
layers, and global average pooling. The parameter names match that code, so its checkpoints
load strictly. One deviation: pooling is adaptive, so any input of at least 8×8 pixels works
(for 32×32 inputs it equals LDAM's ``avg_pool2d`` over the final 8×8 map).

The classifier is the attribute ``linear``: ``nn.Linear(64, C)``, or for ``head="cosine"``
LDAM's ``NormedLinear`` (cosine similarity between normalised features and class weights), or
for ``head="lws"`` ``nn.Linear`` followed by MiSLAS's learnable weight scaling ``lws``. This is
the ``cifar_resnet`` family of ``models.registry``; its blocks are reused by the other families.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from errors import UserError
from models import CIFAR_ARCHITECTURES as ARCHITECTURES
from models.base import ModelSpec
from models.heads import SingleHeadModel, infer_head
from models.registry import UnrecognisedWeights, register_family

STAGE_WIDTHS = (16, 32, 64)


def depth_of(arch: str) -> int:
    """``"resnet32"`` → 32. Raises ``UserError`` for an architecture this module does not build."""
    if arch not in ARCHITECTURES:
        raise UserError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    return int(arch.removeprefix("resnet"))


def blocks_per_stage(depth: int) -> int:
    """Basic blocks in each of the three stages of a depth-``depth`` CIFAR ResNet (6n + 2)."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has depth 6n + 2, not {depth}")
    return (depth - 2) // 6


class OptionAShortcut(nn.Module):
    """Identity for stride 2 and wider output: keep every second pixel, pad channels with zeros."""

    def __init__(self, in_planes: int, planes: int):
        super().__init__()
        extra = planes - in_planes
        self.pad = (extra // 2, extra - extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, *self.pad))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with a residual connection."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        needs_projection = stride != 1 or in_planes != planes
        self.shortcut = OptionAShortcut(in_planes, planes) if needs_projection else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def make_stage(in_planes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """``blocks`` basic blocks; the first changes width and stride (option-A shortcut)."""
    return nn.Sequential(BasicBlock(in_planes, planes, stride),
                         *(BasicBlock(planes, planes) for _ in range(blocks - 1)))


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-normal weights for every convolution and linear layer (LDAM-DRW's ``_weights_init``)."""
    for child in module.modules():
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(child.weight)


@register_family("cifar_resnet")
class CifarResNet(SingleHeadModel):
    """A 6n + 2 layer CIFAR ResNet: ``features`` gives the pooled 64-d vector, ``linear`` the logits,
    and with ``head="lws"`` MiSLAS's learnable weight scaling ``lws`` after it."""

    feature_dim = STAGE_WIDTHS[-1]
    trunk_modules = ("conv1", "bn1", "layer1", "layer2", "layer3")

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        n = blocks_per_stage(depth_of(spec.arch))
        self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        self.layer1 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[0], n, stride=1)
        self.layer2 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[1], n, stride=2)
        self.layer3 = make_stage(STAGE_WIDTHS[1], STAGE_WIDTHS[2], n, stride=2)
        self.add_heads(spec)
        kaiming_init(self)
        self.add_scaling()

    # --- the family's interface (foreign files: ``SingleHeadModel``) ----------------------
    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        if "conv1.weight" not in state_dict or not any(key.startswith("layer1.") for key in state_dict):
            return None
        arch, num_classes, head = infer_architecture(state_dict)
        return ModelSpec(cls.name, arch, num_classes, head)

    # --- the model -------------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised images → ``(N, 64)`` pooled features."""
        return cifar_features(self, x)


def cifar_features(trunk: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The CIFAR trunk's pooled features, for any module holding ``conv1``, ``bn1``, ``layer1..3``."""
    out = F.relu(trunk.bn1(trunk.conv1(x)))
    out = trunk.layer3(trunk.layer2(trunk.layer1(out)))
    return F.adaptive_avg_pool2d(out, 1).flatten(1)


_BLOCK_KEY = re.compile(r"^layer([123])\.(\d+)\.")


def infer_architecture(state_dict: Mapping[str, torch.Tensor]) -> tuple[str, int, str]:
    """``(arch, num_classes, head)`` from tensor shapes: depth 6n + 2 from the n blocks of layer1,
    classes from the classifier, ``"cosine"`` for a (64, C) weight with no bias and ``"lws"`` when
    MiSLAS's ``lws.learned_norm`` is present. Raises :class:`UnrecognisedWeights` with the reason."""
    if any(key.startswith("layer4.") for key in state_dict):
        raise UnrecognisedWeights("it has a layer4, so it is an ImageNet-style ResNet, "
                                  f"not a CIFAR ResNet ({', '.join(ARCHITECTURES)})")
    conv1 = state_dict.get("conv1.weight")
    if conv1 is None or not any(key.startswith("layer1.") for key in state_dict):
        first = ", ".join(list(state_dict)[:4])
        raise UnrecognisedWeights(f"it does not look like a CIFAR ResNet (no conv1/layer1 weights; keys start {first})")
    if tuple(conv1.shape) != (STAGE_WIDTHS[0], 3, 3, 3):
        raise UnrecognisedWeights(f"its first convolution has shape {tuple(conv1.shape)}, "
                                  f"a CIFAR ResNet's is {(STAGE_WIDTHS[0], 3, 3, 3)}")
    blocks = {stage: set() for stage in "123"}
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match:
            blocks[match.group(1)].add(int(match.group(2)))
    counts = [len(blocks[stage]) for stage in "123"]
    if len(set(counts)) != 1:
        raise UnrecognisedWeights(f"its stages have {counts[0]}, {counts[1]} and {counts[2]} blocks; "
                                  "a CIFAR ResNet has the same number in each")
    arch = f"resnet{6 * counts[0] + 2}"
    if arch not in ARCHITECTURES:
        raise UnrecognisedWeights(f"it is a {arch}, which this app does not build ({', '.join(ARCHITECTURES)})")
    return (arch, *infer_head(state_dict, STAGE_WIDTHS[-1]))
