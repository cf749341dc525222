"""The paired benchmark alternates the sides on the same work and reports ratios, spread and load
(no timing asserted). 100 training images: one per class of the 100-class work, which every loss needs."""
import statistics

from tools.paired_bench import format_report, ratio_summary, run_paired


def test_every_side_is_timed_every_round_and_the_report_gives_median_spread_and_load():
    rounds = []
    result = run_paired(batches=1, batch_size=100, test_images=24, rounds=2, device="cpu", arch="resnet20",
                        on_round=lambda epoch, epochs: rounds.append((epoch, epochs)))
    assert rounds == [(1, 3), (2, 3), (3, 3)]  # one warm-up round, then the timed ones
    assert [s.side for s in result.sides] == ["ours", "pil-nchw", "pil-cl"]
    for side in result.sides:
        assert len(side.train) == len(side.eval) == 2 and min(side.train + side.eval) > 0
    assert result.train_images == 100 and result.test_images == 24
    report = format_report(result)
    ours, seed = result.side("ours"), result.side("pil-nchw")
    median = statistics.median([b / o for b, o in zip(seed.total, ours.total)])
    assert f"vs pil-nchw" in report and f"total {median:.2f}x [" in report
    assert "load average (1 min):" in report and "target >= 1.25x" in report
    assert "DataLoader num_workers=0" in report and "engine.trainer.train" in report


def test_ratio_summary_is_median_quartiles_and_range_of_per_round_ratios():
    baseline, ours = [2.0, 3.0, 4.0, 10.0, 5.0], [1.0, 1.0, 1.0, 1.0, 1.0]
    assert ratio_summary(baseline, ours) == (4.0, 3.0, 5.0, 2.0, 10.0)
    assert ratio_summary([3.0], [2.0]) == (1.5, 1.5, 1.5, 1.5, 1.5)
