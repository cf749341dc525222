"""The prepared GPU check runs end to end on the CPU in its smoke mode and prints its one table
(the compiled rows are skipped there; no timing is asserted)."""
from tools.gpu_check import main


def test_the_smoke_mode_prints_the_protocol_and_bench_rows(capsys):
    assert main(["--smoke", "--device", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "generated-cifar100-lt" in table and "measurement" in table
    for row in ("precision (ours) | fp32", "protocol eager: s/epoch (median of 2)", "200 epochs, extrapolated",
                "protocol compiled (CUDA graphs) | skipped: not a CUDA device", "bench vs pil-cl (total, 2 rounds)",
                "95% CI"):
        assert row in " ".join(table.split()).replace(" |", " |"), row
