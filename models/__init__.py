"""Networks only: model families built from a ``ModelSpec``, registered by name. Imports nothing
from ``engine``; the root ``errors`` module (the app-wide error base) is its one dependency.

The architecture names are plain data here, so the front ends can list them (``architectures()``)
without importing torch; the classes and functions load with their modules on first use. The
registry (``models.registry``) knows no family; every family module registers itself with it, and
the catalogue ``models.zoo`` (``create_model``, ``recognise``, ``spec_for`` …) imports them all,
so no module here imports back.
"""
from __future__ import annotations

import importlib
from typing import Any

CIFAR_ARCHITECTURES = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
# torchvision's definitions (models/resnet_imagenet.py); ResNet-10 is OLTR's [1, 1, 1, 1] BasicBlock net
IMAGENET_ARCHITECTURES = ("resnet10", "resnet50", "resnext50_32x4d", "resnet152")


def architectures() -> tuple[str, ...]:
    """Every architecture a family here builds: the CIFAR ResNets, then the ImageNet ones."""
    return CIFAR_ARCHITECTURES + IMAGENET_ARCHITECTURES


def is_imagenet_arch(arch: str) -> bool:
    return arch in IMAGENET_ARCHITECTURES


def arch_title(arch: str) -> str:
    """A readable name: ``ResNet-32``, ``ResNet-50 (ImageNet)``, ``ResNeXt-50 (32×4d, ImageNet)``."""
    if arch.startswith("resnext"):
        depth, width = arch.removeprefix("resnext").split("_")
        return f"ResNeXt-{depth} ({width.replace('x', '×')}, ImageNet)"
    return f"ResNet-{arch.removeprefix('resnet')}" + (" (ImageNet)" if is_imagenet_arch(arch) else "")


def arch_titles() -> dict[str, str]:
    """Name → title of every architecture: the choices of ``model.arch``."""
    return {arch: arch_title(arch) for arch in architectures()}


def base_family(arch: str) -> str:
    """The plain family that builds ``arch``: ``cifar_resnet`` or ``imagenet_resnet``."""
    return "imagenet_resnet" if is_imagenet_arch(arch) else "cifar_resnet"


_EXPORTS = {
    "models.base": ("LTModel", "ModelOutput", "ModelSpec", "PretrainedCfg", "head_modules_from_state"),
    "models.registry": ("UnrecognisedWeights", "register_family"),
    "models.zoo": ("build_model", "create_model", "families", "family", "join_parts", "pretrained_cfg", "recognise",
                   "spec_for"),
    "models.heads": ("HEADS", "NormedLinear", "make_head"),
    "models.resnet_cifar": ("CifarResNet", "depth_of"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """The package's public classes and functions, imported from their module when first asked for."""
    if name not in _HOME:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


__all__ = ["CIFAR_ARCHITECTURES", "IMAGENET_ARCHITECTURES", "arch_title", "arch_titles", "architectures", "base_family",
           "is_imagenet_arch",
           *_HOME]
