"""Train rules: effective-number weights, the DRW boundary, the sampler each rule asks for."""
from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from errors import UserError
from engine.methods import build_method
from engine.rules import TrainRule

COUNTS = [100, 30, 10, 2]


def effective_number_weights(counts: list[int], beta: float) -> list[float]:
    raw = [(1 - beta) / (1 - beta ** n) for n in counts]
    return [w / sum(raw) * len(counts) for w in raw]


def rule(name: str, **kwargs) -> TrainRule:
    return TrainRule(name, torch.tensor(COUNTS), **kwargs)


def test_reweight_uses_effective_number_weights_summing_to_the_class_count():
    expected = torch.tensor(effective_number_weights(COUNTS, 0.9999))
    reweight = rule("reweight")
    for epoch in (0, 100, 199):
        weights = reweight.class_weights(epoch)
        assert weights.dtype == torch.float32
        assert_close(weights, expected)
    assert float(reweight.class_weights(0).sum()) == pytest.approx(len(COUNTS))
    assert_close(rule("reweight", beta=0.99).class_weights(0), torch.tensor(effective_number_weights(COUNTS, 0.99)))


def test_rarer_classes_get_larger_weights():
    weights = rule("reweight").class_weights(0).tolist()
    assert weights == sorted(weights)


def test_drw_switches_weights_on_at_the_0_based_drw_epoch():
    drw = rule("drw", drw_epoch=160)
    assert drw.class_weights(0) is None
    assert drw.class_weights(159) is None
    assert_close(drw.class_weights(160), torch.tensor(effective_number_weights(COUNTS, 0.9999)))
    assert_close(drw.class_weights(199), torch.tensor(effective_number_weights(COUNTS, 0.9999)))


def test_drw_matches_ldam_drw_betas_indexed_by_epoch_floor_160():
    """LDAM-DRW: ``betas = [0, 0.9999]; idx = epoch // 160`` on 0-based epochs; β = 0 gives all-ones weights."""
    drw = rule("drw", drw_epoch=160)
    for epoch in range(200):
        beta = [0.0, 0.9999][epoch // 160]
        official = torch.tensor(effective_number_weights(COUNTS, beta))
        ours = drw.class_weights(epoch)
        assert_close(torch.ones(len(COUNTS)) if ours is None else ours, official)


def test_samplers_and_weights_of_none_and_resample():
    for epoch in (0, 170):
        assert rule("none").sampler(epoch) == "instance"
        assert rule("none").class_weights(epoch) is None
        assert rule("resample").sampler(epoch) == "class_balanced"
        assert rule("resample").class_weights(epoch) is None
        assert rule("reweight").sampler(epoch) == "instance"
        assert rule("drw").sampler(epoch) == "instance"


def test_apply_sets_the_weights_the_loss_then_uses():
    method = build_method("ce", torch.tensor(COUNTS))
    logits = torch.tensor([[0.5, 0.1, -0.2, 0.0], [0.0, 0.3, 0.2, 0.9]])
    labels = torch.tensor([0, 3])
    drw = rule("drw", drw_epoch=2)
    drw.apply(method, 1)
    assert method.class_weights is None
    plain = method.criterion(logits, labels, logits)
    drw.apply(method, 2)
    assert_close(method.class_weights, torch.tensor(effective_number_weights(COUNTS, 0.9999)))
    assert not torch.allclose(method.criterion(logits, labels, logits), plain)


def test_rule_names_are_case_insensitive_and_checked():
    assert rule("DRW").name == "drw"
    with pytest.raises(UserError, match="train rule"):
        rule("oversample")


def test_weighting_a_class_without_images_is_a_user_error():
    with pytest.raises(UserError, match="class 2"):
        TrainRule("reweight", torch.tensor([10, 5, 0]))
    assert TrainRule("none", torch.tensor([10, 5, 0])).class_weights(0) is None
