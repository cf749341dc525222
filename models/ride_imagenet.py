"""RIDE's multi-expert ImageNet ResNets: ResNet-10/50/152 and ResNeXt-50 (32×4d) with shared early stages.

Wang et al., ICLR 2021; official code github.com/frank-xwang/RIDE-LongTailRecognition,
``model/fb_resnets/RIDEResNet.py`` and ``RIDEResNeXt.py`` (configs
``config_imagenet_lt_resnext50_ride.json``, ``config_iNaturalist_resnet50_ride.json``):

- the stem (``conv1``, ``bn1``, max pooling), ``layer1`` and ``layer2`` are shared;
- every expert has its own ``layer3s[e]`` and ``layer4s[e]``; with ``reduce_dimension`` (every
  published config) their planes are 192 and 384 instead of 256 and 512, so a Bottleneck expert's
  feature is 1,536-d (2,048 without), a BasicBlock one's 384;
- global pooling, a cosine classifier per expert (``linears[e]``) and logits × s = 30 in the model;
- the router of the expert-assignment stage (``EAResNet.py``) reads the pooled, L2-normalised
  ``layer4`` feature of the expert, as the CIFAR router reads its last stage.

The blocks are torchvision's (``models.resnet_imagenet.make_stage``), with its initialisation,
which equals the official ``normal(0, sqrt(2 / n))`` fan-out rule. Everything else (experts' mean,
routing, checkpoints with the official ``backbone.`` prefix) is the CIFAR model's: this module
builds the ImageNet trunk and experts, and ``models.ride.MultiExpertImageNet`` (a subclass of the
CIFAR model) uses them. It does not import ``models.ride``.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.resnet import ResNet

from models.registry import UnrecognisedWeights
from models.resnet_imagenet import BLUEPRINTS, blueprint, make_stage

EXPERT_PLANES = {True: (192, 384), False: (256, 512)}  # reduce_dimension → planes of layer3s, layer4s
SHARED = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2")


def build_imagenet_experts(model: nn.Module, arch: str, reduce_dimension: bool, experts: int) -> int:
    """Put the shared stem, ``layer1``, ``layer2`` and every expert's ``layer3s[e]`` / ``layer4s[e]``
    of ``arch`` on ``model``; returns the experts' feature width."""
    block, layers, groups, width = blueprint(arch)
    net = ResNet(block, list(layers), groups=groups, width_per_group=width)
    for name in SHARED:
        model.add_module(name, getattr(net, name))
    planes3, planes4 = EXPERT_PLANES[reduce_dimension]
    shared_out = 128 * block.expansion
    model.layer3s = nn.ModuleList(make_stage(arch, shared_out, planes3, layers[2], 2) for _ in range(experts))
    model.layer4s = nn.ModuleList(make_stage(arch, planes3 * block.expansion, planes4, layers[3], 2)
                                  for _ in range(experts))
    return planes4 * block.expansion


def imagenet_trunk(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The shared stem, ``layer1`` and ``layer2``."""
    return model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))


def imagenet_expert_feature(model: nn.Module, shared: torch.Tensor, expert: int) -> torch.Tensor:
    out = model.layer4s[expert](model.layer3s[expert](shared))
    return F.adaptive_avg_pool2d(out, 1).flatten(1)


def imagenet_options(state: Mapping[str, torch.Tensor]) -> dict:
    """``arch``, ``num_classes`` and ``reduce_dimension`` of an official ImageNet RIDE state dict."""
    def blocks(prefix: str) -> int:
        return len({key[len(prefix):].split(".")[0] for key in state if key.startswith(prefix)})

    counts = (blocks("layer1."), blocks("layer2."), blocks("layer3s.0."), blocks("layer4s.0."))
    bottleneck = "layer1.0.conv3.weight" in state
    conv2 = state["layer1.0.conv2.weight"]
    groups = int(conv2.shape[0] // conv2.shape[1]) if bottleneck else 1
    arch = next((name for name, (block, layers, arch_groups, _) in BLUEPRINTS.items()
                 if layers == counts and (block.expansion == 4) == bottleneck and arch_groups == groups), None)
    if arch is None:
        raise UnrecognisedWeights(f"it is a RIDE ImageNet model with blocks {list(counts)} ({groups} groups), "
                                  f"which this app does not build")
    width, classes = state["linears.0.weight"].shape
    expansion = blueprint(arch)[0].expansion
    reduced = {planes4 * expansion: reduce for reduce, (_, planes4) in EXPERT_PLANES.items()}
    if width not in reduced:
        raise UnrecognisedWeights(f"its experts' features are {width}-d; RIDE's {arch} experts have "
                                  f"{', '.join(str(w) for w in reduced)}")
    return {"arch": arch, "num_classes": int(classes), "reduce_dimension": reduced[width]}
