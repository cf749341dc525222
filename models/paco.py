"""The ``momentum_contrast`` family: PaCo's MoCo wrapper around a CIFAR or an ImageNet ResNet.

Cui et al., "Parametric Contrastive Learning", ICCV 2021; official code
github.com/dvlab-research/Parametric-Contrastive-Learning, ``PaCo/LT/moco/builder.py`` (``MoCo``)
with ``mlp=True``, ``feat_dim=64``, ``normalize=False`` as its CIFAR-100-LT scripts run it (the
ImageNet-LT, iNaturalist and Places-LT scripts: torchvision's ResNet trunk, ``feat_dim=2048``,
``moco-dim`` 128 and ``moco-k`` 8192, the method's parameters ``projection_dim`` and ``queue_size``):

- ``encoder_q``: the CIFAR ResNet trunk whose ``fc`` is an MLP projection
  ``Linear(64, 64) → BN1d → ReLU → Linear(64, proj_dim=32)``;
- ``linear``: the parametric class centres, ``Linear(64, C)`` on the pooled 64-d trunk feature
  (the official forward hook on ``avgpool``): these logits are the model's prediction;
- ``encoder_k``: a copy of ``encoder_q`` that never receives gradients; the PaCo stage's EMA
  hook (``engine/hooks.py``) moves it towards ``encoder_q`` after every step (momentum m);
- ``queue`` ``(K, proj_dim)`` of L2-normalised keys, ``queue_labels`` ``(K,)`` and ``queue_ptr``:
  buffers, so the model's state dict carries them and a resumed run continues with the same queue.

Where this differs from the official code, and why:

- :meth:`enqueue` writes with wrap-around, so K need not be a multiple of the batch size and a
  short last batch is fine (the official ``_dequeue_and_enqueue`` asserts ``K % batch == 0`` and
  the loader drops the last batch). A batch larger than K keeps its newest K keys.
- The initial queue is random unit vectors (one normalised row per key); the official code
  normalises the random ``(K, dim)`` tensor along dim 0 instead (columns). Either way the first
  K / B steps contrast against noise with random labels.
- The official wrapper also keeps ``linear_k``, an EMA of the class centres that nothing reads;
  it is left out here (:meth:`checkpoint_filter` drops it from official files).
- No batch shuffle across GPUs for the key encoder's BatchNorm (MoCo's shuffle-BN): on one
  device the key batch's statistics are those of the whole batch either way; with several
  processes each key encoder normalises its own rank's share (``engine/methods/paco.py``).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from models import is_imagenet_arch
from models.base import LTModel, ModelOutput, ModelSpec, PretrainedCfg
from models.registry import UnrecognisedWeights, register_family
from models.resnet_cifar import (STAGE_WIDTHS, blocks_per_stage, cifar_features, depth_of, infer_architecture,
                                 kaiming_init, make_stage)
from models.resnet_imagenet import adopt_trunk, infer_imagenet_arch, is_imagenet_trunk, trunk_features

DEFAULT_OPTIONS = {"proj_dim": 32, "queue_size": 1024}


class ProjectedEncoder(nn.Module):
    """A ResNet trunk with PaCo's MLP projection as ``fc`` (official key names): the CIFAR ResNet
    (``paco_cifar.py``), or torchvision's ImageNet ResNet whose ``fc`` MoCo replaces
    (``paco_lt.py``: ``moco.builder.MoCo(models.__dict__[arch], mlp=True)``)."""

    def __init__(self, arch: str, proj_dim: int):
        super().__init__()
        self.imagenet = is_imagenet_arch(arch)
        if self.imagenet:
            self.feature_dim = adopt_trunk(self, arch)  # torchvision's initialisation
        else:
            n = blocks_per_stage(depth_of(arch))
            self.feature_dim = STAGE_WIDTHS[-1]
            self.conv1 = nn.Conv2d(3, STAGE_WIDTHS[0], 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
            self.layer1 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[0], n, stride=1)
            self.layer2 = make_stage(STAGE_WIDTHS[0], STAGE_WIDTHS[1], n, stride=2)
            self.layer3 = make_stage(STAGE_WIDTHS[1], STAGE_WIDTHS[2], n, stride=2)
        width = self.feature_dim
        self.fc = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, proj_dim))
        if not self.imagenet:
            kaiming_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images → pooled trunk features (the same trunk code as the plain ResNets)."""
        return trunk_features(self, x) if self.imagenet else cifar_features(self, x)

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled features → L2-normalised projections ``(N, proj_dim)``."""
        return F.normalize(self.fc(features), dim=1)


@register_family("momentum_contrast", priority=10)
class MomentumContrast(LTModel):
    """Query encoder + class centres (the predictor), momentum key encoder and a key queue."""

    trunk_prefixes = ("encoder_q.", "encoder_k.")  # both encoders start from an ImageNet trunk (paco_fp16_places.py)

    def __init__(self, spec: ModelSpec):
        super().__init__()
        options = {**DEFAULT_OPTIONS, **spec.options}
        self.spec = spec.replace(options=options)
        proj_dim, queue_size = int(options["proj_dim"]), int(options["queue_size"])
        self.encoder_q = ProjectedEncoder(spec.arch, proj_dim)
        self.linear = nn.Linear(self.encoder_q.feature_dim, spec.num_classes)
        nn.init.kaiming_normal_(self.linear.weight)
        self.encoder_k = copy.deepcopy(self.encoder_q).requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, proj_dim), dim=1))
        self.register_buffer("queue_labels", torch.randint(0, spec.num_classes, (queue_size,)))
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))

    # --- the family's interface ------------------------------------------------------------
    @classmethod
    def recognise(cls, state_dict: Mapping[str, torch.Tensor]) -> ModelSpec | None:
        """An official PaCo file (``module.`` already stripped): ``encoder_q.*`` + ``linear.*``."""
        if "encoder_q.conv1.weight" not in state_dict:
            return None
        projection = state_dict.get("encoder_q.fc.3.weight")
        if projection is None or "linear.weight" not in state_dict:
            raise UnrecognisedWeights("it has a MoCo query encoder but not PaCo's MLP projection (encoder_q.fc.3) "
                                      "and class centres (linear); only PaCo's mlp=True files load")
        trunk = {k.removeprefix("encoder_q."): v for k, v in state_dict.items() if k.startswith("encoder_q.")}
        trunk.update({k: v for k, v in state_dict.items() if k.startswith("linear.")})
        if is_imagenet_trunk(trunk):
            arch, num_classes = infer_imagenet_arch(trunk), int(state_dict["linear.weight"].shape[0])
        else:
            arch, num_classes, _ = infer_architecture(trunk)
        queue = state_dict.get("queue")
        queue_size = int(queue.shape[0]) if queue is not None else DEFAULT_OPTIONS["queue_size"]
        return ModelSpec(cls.name, arch, num_classes, "linear",
                         {"proj_dim": int(projection.shape[0]), "queue_size": queue_size})

    @classmethod
    def pretrained_cfg(cls, spec: ModelSpec) -> PretrainedCfg:
        """Official files predict by PaCo's rule: the class-centre logits of the query encoder."""
        return PretrainedCfg(method="paco")

    @classmethod
    def checkpoint_filter(cls, state_dict: Mapping[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
        """Official layout → ours: drop ``linear_k.*``, rename ``queue_l``; a file without the key
        encoder or the queue gets a copy of the query encoder and an empty (zero) queue."""
        if "encoder_q.conv1.weight" not in state_dict or "encoder_q.fc.3.weight" not in state_dict:
            return dict(state_dict)  # not PaCo's, or a near miss that ``recognise`` explains
        adapted = {("queue_labels" if k == "queue_l" else k): v for k, v in state_dict.items()
                   if not k.startswith("linear_k.")}
        if not any(k.startswith("encoder_k.") for k in adapted):
            adapted.update({"encoder_k." + k.removeprefix("encoder_q."): v.clone()
                            for k, v in state_dict.items() if k.startswith("encoder_q.")})
        if "queue" not in adapted:
            proj_dim = int(adapted["encoder_q.fc.3.weight"].shape[0])
            adapted["queue"] = torch.zeros(DEFAULT_OPTIONS["queue_size"], proj_dim)
        adapted.setdefault("queue_labels", torch.zeros(adapted["queue"].shape[0], dtype=torch.long))
        adapted.setdefault("queue_ptr", torch.zeros(1, dtype=torch.long))
        return adapted

    # --- the model -------------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The query encoder's pooled 64-d features (what the class centres and the plug-in see)."""
        return self.encoder_q.features(x)

    def classify(self, features: torch.Tensor, heads: Mapping[str, nn.Module] | None = None) -> ModelOutput:
        """Class-centre logits, plus ``extras["embedding"]``: the normalised query projection."""
        heads = heads or self.heads()
        return ModelOutput(logits=heads["linear"](features), features=features,
                           extras={"embedding": self.encoder_q.embed(features)})

    def heads(self) -> dict[str, nn.Module]:
        return {"linear": self.linear}

    def parts(self) -> dict[str, list[nn.Module]]:
        """``backbone`` = the query encoder (trunk + projection), ``heads`` = the class centres,
        ``projection`` = the MLP alone, ``last_block`` = the trunk's last residual block and
        ``trunk_batchnorm`` = its BatchNorm layers (what PaCo's Places-LT script fine-tunes of an
        ImageNet ResNet, ``paco_fp16_places.py``). The key encoder is in no part: it never trains by gradient."""
        encoder = self.encoder_q
        last_stage = encoder.layer4 if encoder.imagenet else encoder.layer3
        batchnorm = [m for name, m in encoder.named_modules()
                     if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm)) and not name.startswith("fc.")]
        return {"backbone": [encoder], "heads": [self.linear], "projection": [encoder.fc],
                "last_block": [last_stage[-1]], "trunk_batchnorm": batchnorm}

    # --- momentum encoder and queue --------------------------------------------------------
    @torch.no_grad()
    def keys(self, images: torch.Tensor) -> torch.Tensor:
        """The key encoder's normalised projections of a normalised batch (no gradient)."""
        return self.encoder_k.embed(self.encoder_k.features(images))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, labels: torch.Tensor) -> None:
        """FIFO: write ``keys``/``labels`` over the oldest entries, wrapping around the end."""
        size = self.queue.shape[0]
        if keys.shape[0] > size:
            keys, labels = keys[-size:], labels[-size:]
        count = keys.shape[0]
        index = (self.queue_ptr + torch.arange(count, device=self.queue.device)) % size
        self.queue.index_copy_(0, index, keys.detach().to(self.queue.dtype))
        self.queue_labels.index_copy_(0, index, labels.to(self.queue_labels.dtype))
        self.queue_ptr.add_(count).remainder_(size)
