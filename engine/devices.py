"""Device choice and a human-readable name for the status bar and the run card."""
from __future__ import annotations

import torch

from errors import UserError


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` → the first CUDA GPU when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} was asked for, but this machine has no usable CUDA GPU; use auto or cpu")
    return device


def gpu_count() -> int:
    """The CUDA GPUs of this machine (0 without CUDA)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def device_choices() -> dict[str, str]:
    """The devices of this machine (config value → text): the form's suggestions for ``device``."""
    choices = {"auto": "Automatic (GPU if present)", "cpu": "CPU"}
    choices.update({f"cuda:{i}": f"GPU {i}: {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())})
    return choices


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def warm_up(device: torch.device) -> None:
    """Pay one-off costs before timed or interactive work: the first optimiser step imports
    torch._dynamo (about 2 s, holding the interpreter lock) and the first convolution
    initialises the backend."""
    weight = torch.zeros(8, 3, 3, 3, device=device, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.1, momentum=0.9, weight_decay=1e-4)
    torch.nn.functional.conv2d(torch.zeros(2, 3, 8, 8, device=device), weight).sum().backward()
    optimizer.step()
