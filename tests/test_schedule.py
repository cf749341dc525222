import math

from engine.config import OptimConfig
from engine.schedule import learning_rate


def ldam_reference(epoch0: int, base: float = 0.1) -> float:
    """kaidic/LDAM-DRW train.py adjust_learning_rate, written out (epoch = epoch + 1 inside)."""
    epoch = epoch0 + 1
    if epoch <= 5:
        return base * epoch / 5
    if epoch > 180:
        return base * 0.0001
    if epoch > 160:
        return base * 0.01
    return base


def test_step_schedule_matches_ldam_drw_for_every_epoch():
    optim = OptimConfig()
    for epoch in range(200):
        assert math.isclose(learning_rate(optim, epoch), ldam_reference(epoch), rel_tol=1e-12), epoch


def test_decay_points_scale_with_a_shorter_run():
    optim = OptimConfig(epochs=20, warmup_epochs=0)
    assert optim.decay_epochs() == [16, 18]
    assert [learning_rate(optim, e) for e in (15, 16, 17, 18)] == [0.1, 0.1 * 0.01, 0.1 * 0.01, 0.1 * 0.0001]


def test_cosine_after_warmup_goes_from_base_towards_zero():
    optim = OptimConfig(epochs=10, warmup_epochs=2, schedule="cosine")
    rates = [learning_rate(optim, e) for e in range(10)]
    assert rates[:2] == [0.05, 0.1]
    assert math.isclose(rates[2], 0.1)
    expected_last = 0.1 * 0.5 * (1 + math.cos(math.pi * 7 / 8))
    assert math.isclose(rates[-1], expected_last)
    assert all(a >= b for a, b in zip(rates[2:], rates[3:]))
