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
from models.base import LTModel, ModelOutput, ModelSpec, PretrainedCfg
from models.registry import UnrecognisedWeights, create_model, register_family, strip_wrapper_prefixes

ARCHITECTURES = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110")
HEADS = ("linear", "cosine", "lws")
STAGE_WIDTHS = (16, 32, 64)
LDAM_LOGIT_SCALE = 30.0  # LDAM-DRW's s: what a foreign cosine head's outputs are multiplied by
# Foreign files: wrappers around the network, the classifier's other names, MiSLAS's parts
MODULES = {"conv1", "bn1", "layer1", "layer2", "layer3", "linear", "lws", "fc", "classifier"}
WRAPPER_PREFIXES = ("backbone.", "encoder.", "model.", "net.", "network.")
HEAD_ALIASES = ("fc", "classifier")
SPLIT_PARTS = {"state_dict_model": "", "state_dict_classifier": "", "state_dict_lws_model": "lws."}  # entry → key prefix


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


class NormedLinear(nn.Module):
    """Cosine classifier of LDAM: ``normalize(x, dim=1) @ normalize(W, dim=0)``, no bias.

    ``weight`` has shape ``(in_features, out_features)`` (transposed with respect to
    ``nn.Linear``, as in LDAM's checkpoints). Outputs lie in [-1, 1]; the loss scales them.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # LDAM's init: uniform in [-1, 1], then every class column rescaled to unit length.
        with torch.no_grad():
            self.weight.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=1) @ F.normalize(self.weight, dim=0)


def make_head(head: str, in_features: int, num_classes: int) -> nn.Module:
    """A classifier layer of kind ``"linear"`` or ``"cosine"``."""
    if head == "linear":
        return nn.Linear(in_features, num_classes)
    if head == "cosine":
        return NormedLinear(in_features, num_classes)
    raise UserError(f"unknown classifier head {head!r}; choose linear or cosine")


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


class LearnableWeightScaling(nn.Module):
    """MiSLAS's LWS: one learnable scale per class multiplied onto the classifier's logits, ones at
    the start (github.com/dvlab-research/MiSLAS ``methods.py``; the tensor keeps its name there)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.learned_norm = nn.Parameter(torch.ones(1, num_classes))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.learned_norm.fill_(1.0)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.learned_norm * logits


@register_family("cifar_resnet")
class CifarResNet(LTModel):
    """A 6n + 2 layer CIFAR ResNet: ``features`` gives the pooled 64-d vector, ``linear`` the logits,
    and with ``head="lws"`` MiSLAS's learnable weight scaling ``lws`` after it."""

    feature_dim = STAGE_WIDTHS[-1]
    architectures = ARCHITECTURES

    def __init__(self, spec: ModelSpec):
        super().__init__()
        if spec.head not in HEADS:
            raise UserError(f"unknown classifier head {spec.head!r}; choose one of {', '.join(HEADS)}")
        self.spec = spec
        n = blocks_per_stage(depth_of(spec.arch))
        self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        self.layer1 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[0], n, stride=1)
        self.layer2 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[1], n, stride=2)
        self.layer3 = make_stage(STAGE_WIDTHS[1], STAGE_WIDTHS[2], n, stride=2)
        self.linear = make_head("cosine" if spec.head == "cosine" else "linear", self.feature_dim, spec.num_classes)
        kaiming_init(self)
        if spec.head == "lws":
            self.lws = LearnableWeightScaling(spec.num_classes)

    @property
    def head_kind(self) -> str:
        return self.spec.head

    # --- the family's interface ------------------------------------------------------------
    @classmethod
    def from_parts(cls, raw: Mapping) -> tuple[dict[str, torch.Tensor], str] | None:
        """MiSLAS's ``train_stage{1,2}.py`` files: backbone, classifier and LWS as separate state dicts."""
        if not all(_is_state_dict(raw.get(key)) for key, prefix in SPLIT_PARTS.items() if prefix != "lws."):
            return None
        joined = {prefix + key.removeprefix("module."): tensor
                  for entry, prefix in SPLIT_PARTS.items() for key, tensor in (raw.get(entry) or {}).items()}
        parts = ", ".join(entry for entry in SPLIT_PARTS if entry in raw)
        return joined, f"joined the model saved in parts ({parts}, as MiSLAS saves it)"

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """Other code bases' wrappers (``backbone.``, ``model.`` …) and classifier names (``fc``,
        ``classifier``) → LDAM-DRW's keys."""
        state = strip_wrapper_prefixes(state_dict, WRAPPER_PREFIXES, MODULES, notes)
        if any(key.startswith("linear.") for key in state):
            return state
        for alias in HEAD_ALIASES:
            head_keys = {key for key in state if key.startswith(alias + ".")}
            if f"{alias}.weight" in state and head_keys <= {f"{alias}.weight", f"{alias}.bias"}:
                notes.append(f"renamed the classifier {alias}.* to linear.*")
                return {("linear." + key[len(alias) + 1:] if key in head_keys else key): value
                        for key, value in state.items()}
        return state

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        if "conv1.weight" not in state_dict or not any(key.startswith("layer1.") for key in state_dict):
            return None
        arch, num_classes, head = infer_architecture(state_dict)
        return ModelSpec(cls.name, arch, num_classes, head)

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg:
        """A foreign cosine head (LDAM-DRW's ``NormedLinear``) outputs raw cosines: probabilities take
        LDAM's s = 30, the scale it was trained at."""
        if spec.head == "cosine":
            return PretrainedCfg(logit_scale=LDAM_LOGIT_SCALE,
                                 note=f"cosine outputs scaled by LDAM's s = {LDAM_LOGIT_SCALE:g} for probabilities")
        return PretrainedCfg()

    # --- the model -------------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised images → ``(N, 64)`` pooled features."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def classify(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        heads = heads or self.heads()
        logits = heads["linear"](features)
        if "lws" in heads:
            logits = heads["lws"](logits)
        return ModelOutput(logits=logits, features=features)

    def heads(self) -> dict[str, nn.Module]:
        return {"linear": self.linear, **({"lws": self.lws} if self.spec.head == "lws" else {})}

    def parts(self) -> dict[str, list[nn.Module]]:
        parts = super().parts()
        parts["classifier"] = [self.linear]
        if self.spec.head == "lws":
            parts["lws"] = [self.lws]
        return parts


def _is_state_dict(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) > 0 and all(isinstance(v, torch.Tensor) for v in value.values())


def build_model(arch: str, num_classes: int, head: str = "linear") -> CifarResNet:
    """A freshly initialised CIFAR ResNet, e.g. ``build_model("resnet32", 100)``: shorthand for
    ``create_model(ModelSpec("cifar_resnet", arch, num_classes, head))``.

    Its convolution weights are channels-last (NHWC), the layout the inputs from
    ``data.tensors.normalize`` have: measured 1.15x faster training and 1.2x faster inference
    than NCHW on a 2-core CPU (docs/benchmarks.md), and the layout GPUs' tensor cores prefer.
    State dicts are unaffected: loading copies values into whatever layout the model has.
    """
    return create_model(ModelSpec("cifar_resnet", arch, num_classes, head))


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
    weight = state_dict.get("linear.weight")
    if weight is None or weight.ndim != 2:
        raise UnrecognisedWeights("it has no classifier weights (linear.weight or fc.weight)")
    if "lws.learned_norm" in state_dict:
        return arch, int(weight.shape[0]), "lws"
    if "linear.bias" in state_dict:
        return arch, int(weight.shape[0]), "linear"
    if weight.shape[0] == STAGE_WIDTHS[-1]:
        return arch, int(weight.shape[1]), "cosine"
    raise UnrecognisedWeights(f"its classifier weight has shape {tuple(weight.shape)} and no bias: "
                              "neither a linear nor a cosine head")
