"""The multi-expert CIFAR ResNet of RIDE, with the optional expert-assignment router.

Wang et al., "Long-tailed Recognition by Routing Diverse Distribution-Aware Experts", ICLR 2021
(arXiv 2010.01809); official code github.com/frank-xwang/RIDE-LongTailRecognition,
``model/ldam_drw_resnets/ride_resnet_cifar.py`` (the experts) and ``ea_resnet_cifar.py`` (the
router, "expert assignment").

- One shared stem (conv1, bn1) and first stage (16 channels). Each expert has its own second and
  third stage, global average pooling and cosine classifier (``NormedLinear``); its logits are
  the cosines × ``scale`` (s = 30, in the model as in the official code). ``reduce_dimension``
  (every RIDE CIFAR config) narrows the experts' stages from 32/64 to 24/48 channels; the
  option-A shortcut pads (planes − in_planes)/2 zero channels on each side.
- The output is the mean of the expert logits; every expert's logits and pooled features are
  kept (``expert_logits`` (E, N, C), ``features`` (N, E, D)).
- Router i = 0..E−2 decides whether expert i+1 is called: ReLU(Linear_i(48 → 16)) of expert i's
  L2-normalised feature, concatenated after the top-k (k = 30, sorted, descending) values of the
  running-average logits of experts 0..i, through one shared Linear(16 + k → 1).
- Routed inference starts with expert 0 and calls expert i only for the samples whose router
  says sigmoid > 0.5; the logits are the mean of the experts used, and the per-sample number of
  experts used is returned (the compute the router saves).

Module names follow the official code (``layer2s``, ``layer3s``, ``linears``,
``expert_help_pred_hidden_fcs``, ``expert_help_pred_fc``), so the official state dicts load
after their ``backbone.`` prefix is removed. Unlike the official model, the router is an
add-on of the same class (``router=True``), not a second model class, and no parameter is
frozen by the model: the router stage freezes what it does not train.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from errors import UserError
from models import is_imagenet_arch
from models.base import LTModel, ModelOutput, ModelSpec
from models.registry import UnrecognisedWeights, register_family
from models.heads import NormedLinear
from models.resnet_cifar import (STAGE_WIDTHS, blocks_per_stage, depth_of, kaiming_init,
                                 make_stage)

REDUCED_WIDTHS = (16, 24, 48)
ROUTER_HIDDEN = 16
OFFICIAL_PREFIX = "backbone."
DEFAULT_OPTIONS = {"experts": 3, "reduce_dimension": True, "scale": 30.0, "router": False, "top_choices": 30}
ROUTER_MODULES = ("expert_help_pred_hidden_fcs", "expert_help_pred_fc")


@register_family("multi_expert", priority=10)
class MultiExpertResNet(LTModel):
    """RIDE's CIFAR ResNet with ``experts`` experts; ``features`` gives ``(N, E, D)``.

    Spec options: ``experts`` (3), ``reduce_dimension`` (True: widths 24/48), ``scale`` (s = 30),
    ``router`` (False) and ``top_choices`` (30, at most the number of classes).
    """

    optional_prefixes = tuple(f"{name}." for name in ROUTER_MODULES)  # may start fresh when loading

    def __init__(self, spec: ModelSpec):
        super().__init__()
        unknown = set(spec.options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise UserError(f"the multi-expert model has no option {sorted(unknown)[0]!r}")
        if spec.head != "cosine":
            raise UserError(f"RIDE's experts use cosine classifiers, not a {spec.head!r} head")
        options = {**DEFAULT_OPTIONS, **spec.options}
        experts, router = int(options["experts"]), bool(options["router"])
        if not 1 <= experts <= 16:
            raise UserError(f"a multi-expert model has 1 to 16 experts, not {experts}")
        self.spec = spec
        self.num_experts = experts
        self.scale = float(options["scale"])
        num_classes = spec.num_classes
        self.feature_dim = self.build_experts(spec.arch, bool(options["reduce_dimension"]))
        self.linears = nn.ModuleList(NormedLinear(self.feature_dim, num_classes) for _ in range(experts))
        self.top_choices = min(int(options["top_choices"]), num_classes)
        self.has_router = bool(router) and experts > 1
        if self.has_router:
            self.expert_help_pred_hidden_fcs = nn.ModuleList(
                nn.Linear(self.feature_dim, ROUTER_HIDDEN) for _ in range(experts - 1))
            self.expert_help_pred_fc = nn.Linear(ROUTER_HIDDEN + self.top_choices, 1)
        self.initialise()

    def build_experts(self, arch: str, reduce_dimension: bool) -> int:
        """The shared trunk and every expert's own stages; returns the experts' feature width."""
        n = blocks_per_stage(depth_of(arch))
        w1, w2, w3 = REDUCED_WIDTHS if reduce_dimension else STAGE_WIDTHS
        self.conv1 = nn.Conv2d(3, w1, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w1)
        self.layer1 = make_stage(w1, w1, n, stride=1)
        self.layer2s = nn.ModuleList(make_stage(w1, w2, n, stride=2) for _ in range(self.num_experts))
        self.layer3s = nn.ModuleList(make_stage(w2, w3, n, stride=2) for _ in range(self.num_experts))
        return w3

    def initialise(self) -> None:
        kaiming_init(self)  # as the official _weights_init (NormedLinear keeps its own)

    # -- the family's interface ------------------------------------------------------------
    @classmethod
    def build(cls, spec: ModelSpec) -> MultiExpertResNet:
        """RIDE's CIFAR model, or for an ImageNet architecture its ImageNet model (``models.ride_imagenet``)."""
        if is_imagenet_arch(spec.arch):
            from models.ride_imagenet import MultiExpertImageNet

            return MultiExpertImageNet(spec)
        return cls(spec)

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        options = options_from_state_dict(state_dict)
        if options is None:
            return None
        arch, classes = options.pop("arch"), options.pop("num_classes")
        return ModelSpec("multi_expert", arch, classes, "cosine", options)

    @classmethod
    def adapt_state_dict(cls, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return strip_official_prefix(state_dict)

    def heads(self) -> dict[str, nn.Module]:
        return {name: self.linears[e] for e, name in enumerate(self.head_names())}

    def parts(self) -> dict[str, list[nn.Module]]:
        router = [getattr(self, name) for name in ROUTER_MODULES if hasattr(self, name)]
        heads = list(self.heads().values())
        backbone = [module for module in self.children() if module not in router and module is not self.linears]
        return {"backbone": backbone, "heads": heads, "router": router}

    # -- experts -------------------------------------------------------------------------
    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The shared stem and first stage: ``(N, 3, H, W)`` → ``(N, 16, H, W)``."""
        return self.layer1(F.relu(self.bn1(self.conv1(x))))

    def expert_feature(self, shared: torch.Tensor, expert: int) -> torch.Tensor:
        """Expert ``expert``'s pooled feature ``(N, D)`` from the trunk's output."""
        out = self.layer3s[expert](self.layer2s[expert](shared))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images → ``(N, E, D)``, one pooled feature per expert."""
        shared = self.trunk(x)
        return torch.stack([self.expert_feature(shared, e) for e in range(self.num_experts)], dim=1)

    def head_names(self) -> list[str]:
        return [f"linears.{e}" for e in range(self.num_experts)]

    def expert_logits(self, features: torch.Tensor,
                      heads: Mapping[str, nn.Module] | None = None) -> torch.Tensor:
        """``(N, E, D)`` features → ``(E, N, C)`` logits (cosines × scale); ``heads`` replaces
        classifiers by their ``"linears.e"`` name."""
        heads = heads or {}
        return torch.stack([self.scale * heads.get(name, self.linears[e])(features[:, e])
                            for e, name in enumerate(self.head_names())])

    def classify(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        """``(N, E, D)`` features → the experts' mean logits, each expert's logits and the features."""
        expert_logits = self.expert_logits(features, heads)
        return ModelOutput(logits=expert_logits.mean(0), features=features, expert_logits=expert_logits)

    # -- router --------------------------------------------------------------------------
    def router_logit(self, step: int, feature: torch.Tensor, mean_logits: torch.Tensor) -> torch.Tensor:
        """Router ``step``'s "call expert step+1" logit ``(N,)`` from expert ``step``'s feature
        ``(N, D)`` and the running-average logits ``(N, C)`` of experts 0..step."""
        hidden = F.relu(self.expert_help_pred_hidden_fcs[step](F.normalize(feature, dim=1)))
        top = mean_logits.topk(self.top_choices, dim=1).values
        return self.expert_help_pred_fc(torch.cat([top, hidden], dim=1)).squeeze(1)

    def router_logits(self, features: torch.Tensor, expert_logits: torch.Tensor) -> torch.Tensor:
        """Every router's logit ``(N, E − 1)`` given all experts' features and logits (training)."""
        counts = torch.arange(1, self.num_experts + 1, device=expert_logits.device, dtype=expert_logits.dtype)
        running = expert_logits.cumsum(0) / counts[:, None, None]
        return torch.stack([self.router_logit(i, features[:, i], running[i])
                            for i in range(self.num_experts - 1)], dim=1)

    @torch.no_grad()
    def routed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Routed inference: ``(logits (N, C), experts used (N,) int64)``.

        Expert 0 runs on every image; expert i runs only on the images every router so far sent
        on. Without a router every expert runs on every image.
        """
        shared = self.trunk(x)
        if not self.has_router:
            logits = self.expert_logits(torch.stack(
                [self.expert_feature(shared, e) for e in range(self.num_experts)], dim=1)).mean(0)
            return logits, torch.full((x.shape[0],), self.num_experts, dtype=torch.long, device=x.device)
        feature = self.expert_feature(shared, 0)
        total = self.scale * self.linears[0](feature)
        used = torch.ones(x.shape[0], dtype=torch.long, device=x.device)
        active = torch.arange(x.shape[0], device=x.device)
        for expert in range(1, self.num_experts):
            go = torch.sigmoid(self.router_logit(expert - 1, feature, total[active] / expert)) > 0.5
            active = active[go]
            if active.numel() == 0:
                break
            feature = self.expert_feature(shared[active], expert)
            total.index_add_(0, active, self.scale * self.linears[expert](feature))
            used[active] += 1
        return total / used[:, None].to(total.dtype), used


def strip_official_prefix(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The official RIDE layout (``backbone.*``) → this module's keys; other keys unchanged."""
    return {key.removeprefix(OFFICIAL_PREFIX): value for key, value in state_dict.items()}


def options_from_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict | None:
    """``{"arch", "num_classes", "experts", "reduce_dimension", "router", "top_choices"}`` read
    from a (prefix-stripped) multi-expert state dict's keys and shapes; None when it is not one."""
    state = strip_official_prefix(state_dict)
    if "linears.0.weight" not in state or not any(k in state for k in ("layer2s.0.0.conv1.weight",
                                                                       "layer4s.0.0.conv1.weight")):
        return None
    if "linears.0.bias" in state:
        raise UnrecognisedWeights("it is a RIDE model with plain linear expert classifiers (use_norm false); "
                                  "only RIDE's cosine classifiers (use_norm true, every CIFAR config) load here")
    experts = 1 + max(int(key.split(".")[1]) for key in state if key.startswith("linears."))
    router = "expert_help_pred_fc.weight" in state
    common = {"experts": experts, "router": router,
              "top_choices": int(state["expert_help_pred_fc.weight"].shape[1]) - ROUTER_HIDDEN if router else 30}
    if "layer4s.0.0.conv1.weight" in state:
        from models.ride_imagenet import imagenet_options

        return {**imagenet_options(state), **common}
    blocks = 1 + max(int(key.split(".")[2]) for key in state if key.startswith("layer2s.0."))
    depth = 6 * blocks + 2
    width2 = state["layer2s.0.0.conv1.weight"].shape[0]
    width3, classes = state["linears.0.weight"].shape
    if (width2, width3) not in (REDUCED_WIDTHS[1:], STAGE_WIDTHS[1:]):
        raise UnrecognisedWeights(f"its experts are {width2}/{width3} channels wide; RIDE's CIFAR ResNets are "
                                  "24/48 (reduce_dimension) or 32/64")
    return {"arch": f"resnet{depth}", "num_classes": int(classes),
            "reduce_dimension": (width2, width3) == REDUCED_WIDTHS[1:], **common}
