"""Networks only: model families built from a ``ModelSpec``, registered by name. Imports nothing
from ``engine``; the root ``errors`` module (the app-wide error base) is its one dependency.

The registry comes first and knows no family; each family module registers itself on import,
here, so importing ``models`` (or any module in it) registers every family and no module in
the package imports back.
"""
from models.base import LTModel, ModelOutput, ModelSpec, PretrainedCfg, head_modules_from_state  # noqa: F401
from models.registry import (  # noqa: F401
    UnrecognisedWeights,
    architectures,
    create_model,
    families,
    join_parts,
    pretrained_cfg,
    recognise,
    register_family,
    spec_for,
)
from models import resnet_cifar, ride, paco  # noqa: E402,F401 (each registers its family)
from models.resnet_cifar import (  # noqa: F401 (the package's public API)
    ARCHITECTURES,
    HEADS,
    CifarResNet,
    NormedLinear,
    build_model,
    depth_of,
    make_head,
)
