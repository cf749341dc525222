"""Write the settings table of docs/configuration.md from the config's knobs (``engine.knobs``).

    python tools/config_docs.py        # rewrites the table between the markers

tests/test_config.py fails when the table in the docs differs from what this prints, so the docs
cannot drift from the code. Choice sets a registry owns are named by their source, not listed.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.config import RunConfig  # noqa: E402
from engine.knobs import Registry, Setting, number_text, settings  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"
BEGIN, END = "<!-- settings table: tools/config_docs.py -->", "<!-- end of the settings table -->"


def settings_table() -> str:
    lines = [BEGIN, "", "| setting | flag | form label | default | choices or range | what it does |",
             "|---|---|---|---|---|---|"]
    lines += [_row(item) for item in settings(RunConfig)]
    return "\n".join([*lines, "", END])


def _row(item: Setting) -> str:
    knob = item.knob
    flag = "—" if knob.flag == "" else f"`{_flag(item)}`"
    cells = [f"`{item.path}`", flag, knob.label, f"`{_json(item.default())}`", _allowed(item),
             knob.help + (" *Local: kept when a preset is applied.*" if knob.local else "")]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _flag(item: Setting) -> str:
    if item.type is bool:
        return f"{item.flag} / --no-{item.flag[2:]}"
    return f"{item.flag} NAME=VALUE" if item.knob.widget == "params" else item.flag


def _allowed(item: Setting) -> str:
    knob = item.knob
    parts = []
    if isinstance(knob.choices, Registry):
        parts.append(f"registry `{knob.choices.source}`")
    elif knob.choices is not None:
        parts.append(", ".join(f"`{value}`" for value in knob.choices))
    if isinstance(knob.plugin_choices, Registry):
        parts.append(f"plug-in: registry `{knob.plugin_choices.source}`")
    if knob.range is not None:
        parts.append(f"{number_text(knob.range[0])} to {number_text(knob.range[1])}")
    if isinstance(knob.suggested, Registry):
        parts.append(f"offered: registry `{knob.suggested.source}`")
    elif knob.suggested is not None:
        parts.append("offered: " + ", ".join(f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
                                             for value in knob.suggested))
    if knob.check is not None:
        parts.append(knob.check.__doc__)
    return "; ".join(parts) or "—"


def _json(value) -> str:
    import json

    return json.dumps(list(value) if isinstance(value, tuple) else value)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + settings_table() + text[end:], encoding="utf-8")
    print(f"wrote the settings table of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
