"""Networks only: the CIFAR ResNets and their classifier heads. Imports nothing from ``engine``."""
from models.resnet_cifar import (  # noqa: F401 (the package's public API)
    ARCHITECTURES,
    HEADS,
    CifarResNet,
    NormedLinear,
    build_model,
    depth_of,
    make_head,
)
