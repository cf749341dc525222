"""A page's metrics table as CSV, Markdown or LaTeX (chosen by the file suffix), for a paper.
Plain Python: the same header and rows go to any of the three formats."""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from errors import UserError

TABLE_FORMATS = {".csv": "CSV", ".md": "Markdown", ".tex": "LaTeX"}
LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def column_formats(header: Sequence[str], rows: Sequence[Sequence], digits: int = 2) -> list:
    """One formatter per column, so a column's numbers read alike: a column of whole numbers
    (counts, epochs) as whole numbers, any other with ``digits`` decimals throughout ("30.00"
    beside "55.00"), or with three significant digits where a value is too small for those
    decimals (a learning rate). A missing value is "—"."""
    formats = []
    for c in range(len(header)):
        numbers = [row[c] for row in rows if c < len(row) and _is_number(row[c]) and row[c] not in (None, "")
                   and math.isfinite(row[c])]
        if all(float(v).is_integer() for v in numbers):
            style = "whole"
        elif any(v != 0 and abs(v) < 10 ** -digits for v in numbers):
            style = "significant"
        else:
            style = "fixed"
        formats.append(lambda value, style=style: _cell(value, digits, style))
    return formats


def _cell(value, digits: int, style: str) -> str:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if style == "whole":
        return str(int(value))
    return f"{value:.3g}" if style == "significant" else f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, each column's alike."""
    numeric = [all(_is_number(r[c]) for r in rows if c < len(r)) and rows for c in range(len(header))]
    formats = column_formats(header, rows)
    lines = ["| " + " | ".join(str(h).replace("|", "\\|") for h in header) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(f(v).replace("|", "\\|") for f, v in zip(formats, row)) + " |")
    return "\n".join(lines) + "\n"


def latex_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); text escaped for LaTeX."""
    numeric = [all(_is_number(r[c]) for r in rows if c < len(r)) and rows for c in range(len(header))]
    formats = column_formats(header, rows)
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(latex_escape(str(h)) for h in header) + r" \\", "\\midrule"]
    lines += [" & ".join(latex_escape(f(v)) for f, v in zip(formats, row)) + r" \\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text).replace("—", "---")


def check_writable(path: Path) -> None:
    """Refuse, with one line, a file that cannot be written: a missing or read-only folder, a folder's name."""
    folder = path.parent
    if not folder.is_dir():
        raise UserError(QCoreApplication.translate(
            "TableExport", "{0} does not exist; choose an existing folder").format(folder))
    if path.is_dir():
        raise UserError(QCoreApplication.translate("TableExport", "{0} is a folder; give the file a name").format(path))
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(QCoreApplication.translate(
            "TableExport", "{0} cannot be written here (no permission); choose another folder").format(path))


def write_table(path: str | Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """Write the table to ``path``: .csv (values as they are), .md or .tex (two decimals)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_FORMATS:
        check_writable(path)
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([["" if v is None else v for v in row] for row in rows])
    elif suffix == ".md":
        path.write_text(markdown_table(header, rows), encoding="utf-8")
    elif suffix == ".tex":
        path.write_text(latex_table(header, rows), encoding="utf-8")
    else:
        raise UserError(QCoreApplication.translate(
            "TableExport", "{0}: save tables as .csv, .md or .tex").format(path.name))
    return path


def _is_number(value) -> bool:
    return value is None or value == "" or (isinstance(value, (int, float)) and not isinstance(value, bool))
