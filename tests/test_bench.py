"""The paired benchmark alternates the sides on the same work and reports ratios, spread, a bootstrap
interval and load (no timing asserted). 100 training images: one per class of the 100-class work,
which every loss needs."""
import statistics

import pytest

from tools.paired_bench import format_report, ratio_summary, rounds_for_load, run_paired, speedup


def test_every_side_is_timed_every_round_and_the_report_gives_median_spread_interval_and_load():
    rounds = []
    result = run_paired(batches=1, batch_size=100, test_images=24, rounds=2, device="cpu", arch="resnet20",
                        on_round=lambda epoch, epochs: rounds.append((epoch, epochs)))
    assert rounds == [(1, 3), (2, 3), (3, 3)]  # one warm-up round, then the timed ones
    assert [s.side for s in result.sides] == ["ours", "pil-nchw", "pil-cl"]
    for side in result.sides:
        assert len(side.train) == len(side.eval) == 2 and min(side.train + side.eval) > 0
    assert result.train_images == 100 and result.test_images == 24
    assert result.precision == "fp32"  # the test machine's "auto" (tests/conftest.py)
    report = format_report(result)
    ours, seed = result.side("ours"), result.side("pil-nchw")
    median = statistics.median([b / o for b, o in zip(seed.total, ours.total)])
    assert f"vs pil-nchw" in report and f"total {median:.2f}x [" in report
    assert "load average (1 min):" in report and "target >= 1.25x" in report and "ours in fp32" in report
    assert "DataLoader num_workers=0" in report and "engine.trainer.train" in report
    assert "95% CI" in report and "ratio of medians" in report and "headline: total" in report


def test_ratio_summary_is_median_quartiles_and_range_of_per_round_ratios():
    baseline, ours = [2.0, 3.0, 4.0, 10.0, 5.0], [1.0, 1.0, 1.0, 1.0, 1.0]
    assert ratio_summary(baseline, ours) == (4.0, 3.0, 5.0, 2.0, 10.0)
    assert ratio_summary([3.0], [2.0]) == (1.5, 1.5, 1.5, 1.5, 1.5)


def test_the_headline_has_a_bootstrap_interval_and_says_when_it_straddles_one():
    steady = speedup([1.3, 1.31, 1.29, 1.3, 1.32, 1.28] * 3, [1.0] * 18)
    assert steady.median_of_ratios == pytest.approx(1.3) and 1.28 <= steady.low <= 1.3 <= steady.high <= 1.32
    assert steady.significant and "not significant" not in steady.describe() and steady.rounds == 18
    noisy = speedup([0.6, 1.9, 0.8, 1.6, 0.9, 1.4, 1.0], [1.0] * 7)
    assert noisy.low < 1.0 < noisy.high and "not significant" in noisy.describe()
    assert speedup([0.6, 1.9, 0.8, 1.6, 0.9, 1.4, 1.0], [1.0] * 7) == noisy  # a fixed seed: the same interval
    # the two statistics differ when rounds are uneven: the ratio of medians is printed beside
    uneven = speedup([1.0, 2.0, 3.0, 4.0, 5.0], [0.5, 1.0, 10.0, 10.0, 10.0])  # ratios 2, 2, 0.3, 0.4, 0.5
    assert (uneven.median_of_ratios, uneven.ratio_of_medians) == (0.5, 0.3)


def test_rounds_follow_the_load():
    assert (rounds_for_load(2, 0.1), rounds_for_load(2, 1.0), rounds_for_load(2, 5.0)) == (10, 15, 20)
