"""The benchmark runs both pipelines on the same work and reports both rates (no timing asserted).

100 training images: one per class of the 100-class work, which every loss needs.
"""
from engine.bench import SideResult, format_report, measure_side


def test_both_sides_do_the_same_work_and_the_report_compares_them():
    ours = SideResult(**measure_side("ours", batches=2, batch_size=50, test_images=24, device="cpu"))
    baseline = SideResult(**measure_side("baseline", batches=2, batch_size=50, test_images=24, device="cpu"))
    for side in (ours, baseline):
        assert side.train_seconds > 0 and side.eval_seconds > 0
        assert side.train_images_per_s == 100 / side.train_seconds
        assert side.eval_images_per_s == 24 / side.eval_seconds
    report = format_report(ours, baseline)
    ratio = baseline.total_seconds / ours.total_seconds
    assert f"total {ratio:.2f}x" in report and "target >= 1.25x" in report
    assert report.count("\n") == 4
