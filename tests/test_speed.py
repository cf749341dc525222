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


def test_on_cuda_the_compiled_step_replays_one_batch_shape_and_the_short_batch_runs_eagerly(monkeypatch):
    compiled_calls = []

    def fake_compile(module, mode=None):
        assert mode == "reduce-overhead"  # CUDA graphs
        def run(x):
            compiled_calls.append(tuple(x.shape))
            return module(x)
        return run
    monkeypatch.setattr(torch, "compile", fake_compile)
    model = nn.Linear(4, 2)
    step_model = training_model(model, True, device=torch.device("cuda"))
    for rows in (8, 8, 3, 8):
        step_model(torch.ones(rows, 4))
    assert compiled_calls == [(8, 4)] * 3  # the short batch of 3 went to the eager model


def test_the_compiled_evaluation_copy_is_refolded_in_place_and_its_outputs_are_copies(monkeypatch):
    from engine.fold import folded_copy
    from engine.speed import FoldedEvaluation
    from models import ModelSpec, create_model

    buffers = {}

    def fake_compile(module, mode=None):  # a graph: its outputs live in one buffer, overwritten by each replay
        def run(x):
            out = module(x)
            buffers.setdefault("logits", torch.empty_like(out.logits)).copy_(out.logits)
            out.logits = buffers["logits"]
            return out
        return run
    monkeypatch.setattr(torch, "compile", fake_compile)
    torch.manual_seed(0)
    model = create_model(ModelSpec("cifar_resnet", "resnet20", 3)).eval()
    evaluation = FoldedEvaluation(torch.device("cuda"), report=lambda text: None)
    first = evaluation(model)
    weight = first.conv1.weight
    with torch.no_grad():
        model.conv1.weight.mul_(2)
    second = evaluation(model)
    assert second is first and second.conv1.weight is weight  # the same tensors: the graph's addresses hold
    assert torch.equal(weight, folded_copy(model).conv1.weight)
    x, y = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        kept = second(x).logits
        second(y)
        assert torch.equal(kept, folded_copy(model)(x).logits)  # not overwritten by the next call
