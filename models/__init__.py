"""Networks only: model families built from a ``ModelSpec``, registered by name. Imports nothing
from ``engine``; the root ``errors`` module (the app-wide error base) is its one dependency."""
from models.base import LTModel, ModelOutput, ModelSpec, head_modules_from_state  # noqa: F401
from models.registry import UnrecognisedWeights, create_model, families, recognise, register_family  # noqa: F401
from models.resnet_cifar import (  # noqa: F401 (the package's public API)
    ARCHITECTURES,
    HEADS,
    CifarResNet,
    NormedLinear,
    build_model,
    depth_of,
    make_head,
)


def architectures() -> tuple[str, ...]:
    """Every architecture name the model families build: the choices of ``model.arch``."""
    return ARCHITECTURES
