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
  experts used travels in the output (``extras["experts_used"]``, the compute the router saves).
  Routing is the model's prediction mode (``predict`` / ``predict_features``): on once the
  router has trained (the ``router_trained`` buffer, saved with the weights; an official file
  with a router has trained it), off with ``set_routing(False)``. Training steps never route.

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
from models.base import LTModel, ModelOutput, ModelSpec, PretrainedCfg
from models.heads import NormedLinear
from models.registry import UnrecognisedWeights, register_family, strip_wrapper_prefixes
from models.resnet_cifar import (STAGE_WIDTHS, blocks_per_stage, depth_of, kaiming_init,
                                 make_stage)
from models.resnet_imagenet import torchvision_init
from models.ride_imagenet import build_imagenet_experts, imagenet_expert_feature, imagenet_options, imagenet_trunk

REDUCED_WIDTHS = (16, 24, 48)
ROUTER_HIDDEN = 16
OFFICIAL_PREFIX = "backbone."
DEFAULT_OPTIONS = {"experts": 3, "reduce_dimension": True, "scale": 30.0, "router": False, "top_choices": 30}
ROUTER_MODULES = ("expert_help_pred_hidden_fcs", "expert_help_pred_fc")
ROUTER_TRAINED = "router_trained"  # the buffer that says whether the router has trained
MODULES = {"conv1", "bn1", "layer1", "layer2", "layer2s", "layer3s", "layer4s", "linears", *ROUTER_MODULES}


@register_family("multi_expert", priority=10)
class MultiExpertResNet(LTModel):
    """RIDE's CIFAR ResNet with ``experts`` experts; ``features`` gives ``(N, E, D)``.

    Spec options: ``experts`` (3), ``reduce_dimension`` (True: widths 24/48), ``scale`` (s = 30),
    ``router`` (False) and ``top_choices`` (30, at most the number of classes).
    """

    optional_prefixes = (*(f"{name}." for name in ROUTER_MODULES), ROUTER_TRAINED)  # may start fresh when loading
    step_calls = ("classify", "router_logits")  # the router stage's step trains through router_logits

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
            self.register_buffer(ROUTER_TRAINED, torch.zeros((), dtype=torch.bool))
        self.router_is_trained = False  # the buffer's value on the host, so predicting never waits for it
        self.routing = True  # the prediction mode: route once the router has trained
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
        """RIDE's CIFAR model, or for an ImageNet architecture its ImageNet model (:class:`MultiExpertImageNet`)."""
        return MultiExpertImageNet(spec) if is_imagenet_arch(spec.arch) else cls(spec)

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """The official layout (``backbone.*``) → ours; a file with a router has trained it (the
        official EA runs train nothing else), so its ``router_trained`` is set."""
        state = strip_wrapper_prefixes(state_dict, (OFFICIAL_PREFIX,), MODULES, notes)
        if "expert_help_pred_fc.weight" in state and ROUTER_TRAINED not in state:
            state[ROUTER_TRAINED] = torch.tensor(True)
        return state

    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        options = options_from_state_dict(state_dict)
        if options is None:
            return None
        arch, classes = options.pop("arch"), options.pop("num_classes")
        return ModelSpec(cls.name, arch, classes, "cosine", options)

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg:
        """Official files predict by RIDE's rule: the mean of the (routed) experts' logits, × s in the model."""
        return PretrainedCfg(method="ride")

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

    # -- prediction: the routing mode -------------------------------------------------------
    def set_routing(self, enabled: bool) -> MultiExpertResNet:
        self.routing = bool(enabled)
        return self

    def routes(self) -> bool:
        """Whether prediction calls experts by the router: a router that has trained, routing on."""
        return self.has_router and self.routing and self.router_is_trained

    def mark_router_trained(self) -> None:
        """The router stage has started: predictions route from now on."""
        self.router_trained.fill_(True)
        self.router_is_trained = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if self.has_router and prefix + ROUTER_TRAINED in state_dict:
            self.router_is_trained = bool(state_dict[prefix + ROUTER_TRAINED])

    def predict(self, x: torch.Tensor) -> ModelOutput:
        """Routed when :meth:`routes`: only the experts called run, ``features`` is None and
        ``extras["experts_used"]`` holds each image's count; else every expert, as ``forward``."""
        if not self.routes():
            return self(x)
        logits, used = self.routed(x)
        return ModelOutput(logits=logits, features=None, extras={"experts_used": used})

    def predict_features(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        """From every expert's features: the same routing decisions as :meth:`predict` (each router
        sees the running mean of the experts called so far), the mean of the experts called."""
        output = self.classify(features, heads)
        if not self.routes():
            return output
        expert_logits = output.expert_logits
        total, used = expert_logits[0].clone(), torch.ones_like(expert_logits[0][:, 0], dtype=torch.long)
        active = torch.ones_like(used, dtype=torch.bool)
        running = expert_logits.cumsum(0)
        for expert in range(1, self.num_experts):
            go = torch.sigmoid(self.router_logit(expert - 1, features[:, expert - 1], running[expert - 1] / expert)) > 0.5
            active = active & go
            total = total + active[:, None] * expert_logits[expert]
            used = used + active.long()
        return ModelOutput(logits=total / used[:, None].to(total.dtype), features=features,
                           expert_logits=expert_logits, extras={"experts_used": used})

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


class MultiExpertImageNet(MultiExpertResNet):
    """RIDE's ImageNet model (``models.ride_imagenet``): shared stem, ``layer1``, ``layer2``; per
    expert ``layer3s[e]`` and ``layer4s[e]``; ``features`` gives ``(N, E, D)``."""

    def build_experts(self, arch: str, reduce_dimension: bool) -> int:
        return build_imagenet_experts(self, arch, reduce_dimension, self.num_experts)

    def initialise(self) -> None:
        torchvision_init(self)  # NormedLinear keeps its own; the router's layers keep PyTorch's

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return imagenet_trunk(self, x)

    def expert_feature(self, shared: torch.Tensor, expert: int) -> torch.Tensor:
        return imagenet_expert_feature(self, shared, expert)


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
