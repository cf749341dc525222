"""The catalogue check (docs/i18n.md): the committed catalogues are what tools/update_translations.py
makes of the sources, every zh_CN message is translated, and no widget text in gui/ escapes tr().

Runs lupdate and lrelease from the PySide6 wheel into temporary copies; nothing in the tree changes.
"""
from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import update_translations as catalogue  # noqa: E402

GUI = ROOT / "gui"

# calls whose string arguments a user reads: methods of widgets, actions, menus, plots …
TEXT_METHODS = {"setText", "setWindowTitle", "setToolTip", "setStatusTip", "setWhatsThis", "setPlaceholderText",
                "setTitle", "addAction", "addMenu", "addTab", "insertTab", "setTabText", "setTabToolTip",
                "setHorizontalHeaderLabels", "setVerticalHeaderLabels", "setHeaderLabels", "setLabelText",
                "setFormat", "addItem", "addItems", "insertItem", "showMessage", "setInformativeText",
                "setLabel", "setPrefix", "setSuffix", "setSpecialValueText", "addButton", "setButtonText",
                "information", "warning", "critical", "question", "about", "getText", "getItem",
                "getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"}
# … and constructors and helpers that take a text
TEXT_CALLS = {"QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QAction", "QToolButton",
              "QMessageBox", "QMenu", "QTableWidgetItem", "QListWidgetItem", "push_button", "Field", "TextField",
              "FloatField", "IntField", "ChoiceField", "BoolField", "PathField", "CheckpointField", "ImbalanceField"}
# words that stay as written in every language: method names, metric symbols, formats, the app's name
KEPT_WORDS = {"Acc", "HM", "GM", "LR", "ECE", "CE", "BSCE", "GML", "Top", "CIFAR", "CSV", "csv", "PNG", "SVG",
              "PDF", "DPI", "Long", "Tail", "Studio", "n", "max", "min"}
# argument names that are keys or data, never shown: Field(key, …), addItem(text, data) keeps data
DATA_KEYWORDS = {"key", "data", "config_path", "error_names", "objectName", "name"}
# the shown arguments of file dialogs: (parent, caption, folder or file name, filter)
DIALOG_TEXT = {"getOpenFileName": (1, 3), "getOpenFileNames": (1, 3), "getSaveFileName": (1, 3),
               "getExistingDirectory": (1,)}


def shown_literal(node: ast.AST) -> str | None:
    """The user-visible English of a string literal (plain, f-string, concatenation, ``"…".format``),
    or None when ``node`` is not a literal or holds only kept words, numbers and symbols."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return shown_literal(node.left) or shown_literal(node.right)
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
          and isinstance(node.func.value, (ast.Constant, ast.JoinedStr))):
        return shown_literal(node.func.value)
    elif isinstance(node, ast.List) and all(isinstance(e, ast.Tuple) and len(e.elts) == 2 for e in node.elts):
        return next((text for text in (shown_literal(e.elts[1]) for e in node.elts) if text), None)  # (value, text)
    elif isinstance(node, (ast.List, ast.Tuple)):
        return next((text for text in map(shown_literal, node.elts) if text), None)
    else:
        return None
    words = re.findall(r"[A-Za-z]+", text)
    return text if any(word not in KEPT_WORDS for word in words) else None


def untranslated_texts(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in TEXT_METHODS | TEXT_CALLS:
            continue
        arguments = node.args[1:] if name in TEXT_CALLS and name.endswith("Field") else node.args  # the key
        arguments = arguments[:1] if name in ("addItem", "insertItem") and len(arguments) > 1 and isinstance(
            arguments[0], ast.Constant) and not isinstance(arguments[0].value, str) else arguments
        if name in DIALOG_TEXT:
            arguments = [node.args[i] for i in DIALOG_TEXT[name] if i < len(node.args)]
        arguments = list(arguments) + [k.value for k in node.keywords if k.arg not in DATA_KEYWORDS]
        for argument in arguments:
            text = shown_literal(argument)
            if text:
                found.append(f"{path.name}:{node.lineno}: {name}({text!r})")
    return found


def gui_files() -> list[Path]:
    return sorted(GUI.glob("*.py"))


def test_engine_strings_module_is_current():
    expected = catalogue.engine_strings_module(catalogue.engine_texts())
    assert catalogue.ENGINE_STRINGS.read_text(encoding="utf-8") == expected, \
        "gui/engine_strings.py is stale: run tools/update_translations.py"


@pytest.mark.parametrize("ts", list(catalogue.catalogues()), ids=lambda path: path.name)
def test_catalogue_has_every_message_of_the_sources_and_no_other(tmp_path, ts):
    fresh = tmp_path / ts.name
    shutil.copy(ts, fresh)
    catalogue.lupdate(catalogue.sources(), fresh, catalogue.catalogues()[ts])
    committed, updated = catalogue.messages(ts), catalogue.messages(fresh)
    assert sorted(set(updated) - set(committed)) == [], f"new messages: run tools/update_translations.py"
    assert sorted(set(committed) - set(updated)) == [], f"vanished messages: run tools/update_translations.py"


@pytest.mark.parametrize("ts", list(catalogue.catalogues()), ids=lambda path: path.name)
def test_every_message_is_translated(ts):
    assert catalogue.unfinished(ts) == []


@pytest.mark.parametrize("ts", list(catalogue.catalogues()), ids=lambda path: path.name)
def test_the_committed_qm_is_built_from_the_ts(tmp_path, ts):
    built = tmp_path / ts.with_suffix(".qm").name
    catalogue.lrelease(ts, built)
    assert ts.with_suffix(".qm").read_bytes() == built.read_bytes(), "stale .qm: run tools/update_translations.py"


def test_placeholders_survive_translation():
    """A translation keeps every {0}, {value}, %n and %1 of its source (or .format()/plural filling breaks)."""
    wrong = []
    for ts in catalogue.catalogues():
        for (context, source), message in catalogue.messages(ts).items():
            translation = message.find("translation")
            for text in [form.text for form in translation.iter("numerusform")] or [translation.text]:
                if sorted(re.findall(r"\{[^{}]*\}|%n|%\d", source)) != sorted(re.findall(r"\{[^{}]*\}|%n|%\d",
                                                                                            text or "")):
                    wrong.append(f"{ts.name} [{context}] {source!r} → {text!r}")
    assert wrong == []


def test_no_f_string_or_alias_reaches_tr():
    pattern = re.compile(r"\btr\(\s*[rb]?f[\"']|translate\(\s*[\"'][^\"']*[\"']\s*,\s*[rb]?f[\"']"
                         r"|=\s*QCoreApplication\.translate\s*$|=\s*QCoreApplication\.translate\b(?!\()", re.M)
    found = [f"{path.name}: {match.group(0)!r}" for path in gui_files() for match in
             pattern.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_no_untranslated_literal_widget_text_in_gui():
    found = [text for path in gui_files() for text in untranslated_texts(path)]
    assert found == [], "wrap these in self.tr()/QCoreApplication.translate():\n" + "\n".join(found)


def test_the_literal_check_finds_unwrapped_texts(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('label = QLabel("Hello")\nbutton.setToolTip(f"Go to {x}")\nt.setHorizontalHeaderLabels(["A", "HM"])\n'
                      'ok = QLabel(self.tr("Hello"))\nlr = QLabel("HM")\nfield = TextField("lr", "Learning rate", tip)\n'
                      'menu.addAction("{0} runs".format(n))\n', encoding="utf-8")
    assert [line.split(":")[1] for line in untranslated_texts(sample)] == ["1", "2", "3", "6", "7"]
