"""The loop's speed settings: fused SGD equals plain SGD, compiling is off by default and falls back."""
from __future__ import annotations

import torch
from torch import nn

from engine.loop import make_optimizer
from engine.config import OptimConfig
from engine.speed import EagerFallback, sgd_options, training_model


def test_fused_sgd_on_the_cpu_takes_the_same_steps_as_plain_sgd():
    assert sgd_options(torch.device("cpu")) == {"fused": True}
    assert sgd_options(torch.device("meta")) == {"foreach": True}
    results = []
    for options in ({}, {"fused": True}):
        torch.manual_seed(0)
        layer = nn.Linear(5, 3)
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4, nesterov=True,
                                    **options)
        for step in range(3):
            optimizer.zero_grad()
            layer(torch.full((2, 5), float(step))).square().sum().backward()
            optimizer.step()
        results.append(torch.cat([p.detach().flatten() for p in layer.parameters()]))
    assert torch.equal(*results)
    sgd = make_optimizer(OptimConfig(), [{"params": [nn.Parameter(torch.zeros(2))]}], torch.device("cpu"))
    assert sgd.defaults["fused"] is True


def test_compiling_is_opt_in_and_a_failing_compiler_falls_back_to_eager(monkeypatch):
    model = nn.Linear(4, 2)
    assert training_model(model, False) is model

    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler\nmore detail")
    monkeypatch.setattr(torch, "compile", lambda module: broken)
    messages = []
    step_model = training_model(model, True, report=messages.append)
    assert isinstance(step_model, EagerFallback) and step_model.weight is model.weight
    x = torch.ones(3, 4)
    assert torch.equal(step_model(x), model(x)) and torch.equal(step_model(x), model(x))
    assert len(messages) == 1 and "RuntimeError: no C++ compiler" in messages[0] and "more detail" not in messages[0]
