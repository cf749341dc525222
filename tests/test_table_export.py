"""Metrics tables for a paper: each column's numbers read alike, text escaped, bad targets refused."""
from __future__ import annotations

import pytest

from errors import UserError
from gui.table_export import latex_table, markdown_table, write_table


def test_a_column_keeps_one_number_format():
    """Issue 21.4: "30" stood beside "55.00" in one column."""
    header = ["Model", "Acc (%)", "Zero-recall classes", "lr"]
    rows = [["CE_run", 30.0, 3, 0.05], ["GML", 55.123, 8.0, 0.0005], ["old", None, None, 5e-6]]
    lines = markdown_table(header, rows).splitlines()
    assert lines[2:] == ["| CE_run | 30.00 | 3 | 0.05 |", "| GML | 55.12 | 8 | 0.0005 |", "| old | — | — | 5e-06 |"]
    latex = latex_table(header, rows)
    assert r"CE\_run & 30.00 & 3 & 0.05 \\" in latex and r"old & --- & --- & 5e-06 \\" in latex


def test_a_table_is_not_written_where_it_cannot_be(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        write_table(tmp_path / "no" / "table.md", ["a"], [[1]])
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        write_table(tmp_path / "x.csv", ["a"], [[1]])
    assert write_table(tmp_path / "t.tex", ["a"], [[1]]).read_text().startswith("\\begin{tabular}")
