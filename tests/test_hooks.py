"""Step hooks attached to stages: MaxNorm against the official weight-balancing arithmetic written
out by hand, hook strings, refusals, and a stage with a hook that stops and resumes exactly."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from engine.config import ConfigError, OptimConfig
from engine.hooks import EMA, MaxNorm, hook_names, make_hook
from engine.runs import RunFolder
from engine.stages import Stage
from models import build_model
from tests.test_method_contract import contract_config, contract_plan, run


def expected_max_norm(rows: list[list[float]], caps_from: list[list[float]], threshold: float) -> list[list[float]]:
    """``MaxNorm_via_PGD`` (LTR-weight-balancing ``utils/regularizers.py``) for one weight matrix:
    the cap is min + threshold·(max − min) of the row norms of ``caps_from``; rows above it are
    scaled down to it, the others kept."""
    norms = [math.sqrt(sum(v * v for v in row)) for row in caps_from]
    cap = min(norms) + threshold * (max(norms) - min(norms))
    out = []
    for row in rows:
        norm = math.sqrt(sum(v * v for v in row))
        out.append([v * cap / norm for v in row] if norm > cap else list(row))
    return out


def test_max_norm_caps_the_classifier_rows_as_the_official_pgd_and_keeps_its_first_caps():
    model = build_model("resnet20", 4)
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[3.0] * 64, [1.0] * 64, [0.5] * 64, [2.0] * 64]) / 8)
        model.linear.bias.copy_(torch.tensor([5.0, -5.0, 0.0, 1.0]))
    first = model.linear.weight.tolist()
    hook = make_hook("max_norm:0.25")
    assert isinstance(hook, MaxNorm) and hook.threshold == 0.25
    hook.on_stage_start(model, Stage("x", OptimConfig(epochs=1)))
    hook.after_step(model)
    capped = expected_max_norm(first, first, 0.25)
    torch.testing.assert_close(model.linear.weight, torch.tensor(capped))
    assert model.linear.bias.tolist() == [5.0, -5.0, 0.0, 1.0]  # biases are not constrained
    with torch.no_grad():
        model.linear.weight.mul_(3.0)  # later steps: the caps stay those of the first call
    later = model.linear.weight.tolist()
    hook.after_step(model)
    torch.testing.assert_close(model.linear.weight, torch.tensor(expected_max_norm(later, first, 0.25)))
    restored = MaxNorm(0.25)
    restored.on_stage_start(model, Stage("x", OptimConfig(epochs=1)))
    restored.load_state_dict(hook.state_dict())
    assert [float(c) for c in restored.caps] == [float(c) for c in hook.caps]


def test_hooks_are_named_by_strings_and_bad_ones_are_one_line_config_errors():
    assert {"max_norm", "ema"} <= set(hook_names())
    ema = make_hook("ema:0.99:encoder_k:encoder_q")
    assert isinstance(ema, EMA) and (ema.momentum, ema.target, ema.source) == (0.99, "encoder_k", "encoder_q")
    for spec, words in (("maxnorm:0.1", "unknown step hook 'maxnorm'"), ("max_norm:2", "fraction from 0 to 1"),
                        ("max_norm:0.1:9", "'max_norm:0.1:9'"), ("ema:0.9", "'ema:0.9'")):
        with pytest.raises(ConfigError, match=words) as error:
            make_hook(spec)
        assert error.value.field_name == "hooks" and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="cosine classifiers are normalised already"):
        MaxNorm(0.1).on_stage_start(build_model("resnet20", 4, head="cosine"), Stage("x", OptimConfig(epochs=1)))
    with pytest.raises(ConfigError, match="lacks one"):
        EMA(0.9, "encoder_k", "encoder_q").on_stage_start(build_model("resnet20", 4), Stage("x", OptimConfig(epochs=1)))


def test_a_stage_with_max_norm_caps_its_classifier_and_resumes_exactly(tmp_path):
    config = contract_config(tmp_path, "ce")

    def plan():
        planned = contract_plan(config)
        planned.stages = [replace(stage, hooks=("max_norm:0.1",)) for stage in planned.stages]
        return planned

    straight_plan = plan()
    loop, straight = run(straight_plan, RunFolder.create(config.runs_dir, "straight"))
    assert "MaxNorm 0.1" in straight_plan.stages[0].describe()
    [cap] = loop.hooks[0].caps
    norms = straight_plan.model.linear.weight.detach().norm(dim=1)
    assert float(norms.max()) == pytest.approx(float(cap)) and bool((norms <= cap * (1 + 1e-6)).all())
    folder = RunFolder.create(config.runs_dir, "stopped")
    _, first = run(plan(), folder, stop_in_epoch=2)
    _, resumed = run(plan(), RunFolder(folder.path), resume=True)
    for a, b in zip(straight, first + resumed, strict=True):
        assert (a.train.loss, a.test.nll, a.test.per_class_recall) == (b.train.loss, b.test.nll, b.test.per_class_recall)
