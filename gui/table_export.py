"""A page's metrics table as CSV, Markdown or LaTeX (chosen by the file suffix), for a paper.
Plain Python: the same header and rows go to any of the three formats."""
from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from errors import UserError

TABLE_FORMATS = {".csv": "CSV", ".md": "Markdown", ".tex": "LaTeX"}
LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def cell_text(value, digits: int = 2) -> str:
    """A number with ``digits`` decimals (integers as they are), a missing value as "—"."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits else f"{value:.3g}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned."""
    numeric = [all(_is_number(r[c]) for r in rows if c < len(r)) and rows for c in range(len(header))]
    lines = ["| " + " | ".join(str(h).replace("|", "\\|") for h in header) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell_text(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def latex_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); text escaped for LaTeX."""
    numeric = [all(_is_number(r[c]) for r in rows if c < len(r)) and rows for c in range(len(header))]
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(latex_escape(str(h)) for h in header) + r" \\", "\\midrule"]
    lines += [" & ".join(latex_escape(cell_text(v)) for v in row) + r" \\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text).replace("—", "---")


def write_table(path: str | Path, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
    """Write the table to ``path``: .csv (values as they are), .md or .tex (two decimals)."""
    path = Path(path)
    suffix = path.suffix.lower()
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
        raise UserError(f"{path.name}: save tables as .csv, .md or .tex")
    return path


def _is_number(value) -> bool:
    return value is None or value == "" or (isinstance(value, (int, float)) and not isinstance(value, bool))
