"""The Train page's fields, generated from the run config's knobs (``engine/config.py``): each
field's label, tooltip, choices and range come from its setting; this module only places them.

A field's key is its setting's name (``lr``, ``imbalance_ratio``, ``t1``), which is also the name
a ``ConfigError`` flags. Labels and help are translated in the "Settings" context
(``QCoreApplication.translate``); their source strings are the literals in engine/config.py, collected
for the catalogue into gui/engine_strings.py by tools/update_translations.py (docs/i18n.md).
Choices a registry owns arrive with the engine (``offer_choices``) unless it is loaded already.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication, QT_TRANSLATE_NOOP
from PySide6.QtWidgets import QLabel, QWidget

from engine.config import RunConfig
from engine.knobs import ConfigError, ConfigProblems, Registry, setting, settings
from gui.engine_info import EngineInfo, model_choices, pretrained_choices
from gui.forms import (BoolField, CheckpointField, ChoiceField, Field, FloatField, Form, ImbalanceField, IntField,
                       PathField, TextField)
from gui.method_params import MethodParamsField

# (group title, field names): what users change most comes first, above the fold at 1280×720
TRAIN_LAYOUT = (
    (QT_TRANSLATE_NOOP("TrainForm", "Training"), ("loss", "epochs", "batch_size", "lr", "start_epoch")),
    (QT_TRANSLATE_NOOP("TrainForm", "Method hyperparameters"), ("params",)),
    (QT_TRANSLATE_NOOP("TrainForm", "Data"), ("dataset", "root", "imbalance_ratio", "imbalance_type", "train_rule")),
    (QT_TRANSLATE_NOOP("TrainForm", "Pretrained model and ensemble"), ("freeze", "pretrained", "teacher", "ensemble",
                                                                        "t1", "t2")),
    (QT_TRANSLATE_NOOP("TrainForm", "Model and optimiser"), ("arch", "optimizer", "sam_rho", "momentum", "nesterov",
                                                              "weight_decay", "schedule", "warmup_epochs")),
    (QT_TRANSLATE_NOOP("TrainForm", "Run and output"), ("seed", "cut_seed", "runs_dir", "experiment", "device",
                                                         "nproc", "precision", "threads", "loader_workers",
                                                         "recall_floor", "best_metric", "save_model")),
)
DATA_FIELDS = ("dataset", "root", "imbalance_ratio", "imbalance_type")


def setting_text(text: str) -> str:
    """A label or help text of a setting, in the user's language."""
    return QCoreApplication.translate("Settings", text)


def setting_field(name: str, **details: Any) -> Field:
    """The form field of the run setting ``name``, built from its knob. ``details`` go to the field
    (a checkpoint field's ``choices`` and ``none_text``, the hyperparameters' ``loss`` field)."""
    item = setting(RunConfig, name)
    knob = item.knob
    label, tooltip, path = setting_text(knob.label), setting_text(knob.help), item.path
    placeholder = setting_text(knob.placeholder) if knob.placeholder else ""
    if knob.widget == "folder":
        return PathField(name, label, tooltip, path, placeholder=placeholder)
    if knob.widget in ("checkpoint", "teacher"):
        choices = details.pop("choices", pretrained_choices if knob.widget == "checkpoint" else model_choices)
        return CheckpointField(name, label, tooltip, choices, path, **details)
    if knob.widget == "imbalance":
        return ImbalanceField(name, label, tooltip, path)
    if knob.widget == "params":
        return MethodParamsField(name, tooltip, details.pop("loss"), path, **details)
    if item.type is bool:
        return BoolField(name, label, tooltip, path)
    if item.offer is not None:
        ready = not isinstance(item.offer, Registry) or item.offer.loaded()
        options = list(item.offered().items()) if ready else []
        return ChoiceField(name, label, tooltip, [(value, setting_text(text)) for value, text in options], path)
    if item.type is int:
        low, high = knob.range or (0, 2_147_483_647)
        return IntField(name, label, tooltip, path, minimum=int(low), maximum=int(min(high, 2_147_483_647)))
    if item.type is float:
        return FloatField(name, label, tooltip, path)
    return TextField(name, label, tooltip, path, placeholder=placeholder)


class StartEpochField(Field):
    """Where the next Start or Resume begins: shown, never typed (a label, not an input)."""

    persist = False

    def __init__(self):
        super().__init__("start_epoch", QCoreApplication.translate("TrainForm", "Start epoch"),
                         QCoreApplication.translate(
                             "TrainForm", "The epoch the next run begins at: 1 for a new run; after a stop, Resume "
                                          "continues after the last saved epoch. Set by the app, not typed."),
                         QLabel())
        self.epoch = 1
        self.set_value(1)

    def value(self) -> int:
        return self.epoch

    def set_value(self, value: Any, note: str = "") -> None:
        self.epoch = int(value)
        self.editor.setText(f"{self.epoch}  ·  {note}" if note else str(self.epoch))


def build_train_form() -> tuple[Form, list[QWidget]]:
    """The form and its group boxes, in display order."""
    form = Form("train")
    loss = setting_field("loss")
    special = {"loss": loss, "start_epoch": StartEpochField(),
               "params": setting_field("params", loss=loss, empty_text=QCoreApplication.translate(
                   "TrainForm", "This loss has no hyperparameters.")),
               "pretrained": setting_field("pretrained", none_text=QCoreApplication.translate(
                   "TrainForm", "(none: random initialisation)")),
               "teacher": setting_field("teacher", none_text=QCoreApplication.translate("TrainForm", "(none)"))}
    groups = [form.group(QCoreApplication.translate("TrainForm", title),
                         [special.get(name) or setting_field(name) for name in names])
              for title, names in TRAIN_LAYOUT]
    form.align_labels()
    return form, groups


def plugin_form_fields() -> list[Field]:
    """The plug-in's fields on the Compare page: the model to repair, its data, the loss and its
    hyperparameters, the epochs and the ensemble."""
    loss = setting_field("loss")
    return [setting_field("pretrained", choices=model_choices,
                          none_text=QCoreApplication.translate("CompareForm", "(choose a model)")),
            *(setting_field(name) for name in DATA_FIELDS), loss, setting_field("params", loss=loss),
            setting_field("epochs"), setting_field("ensemble")]


def offer_choices(form: Form, info: EngineInfo, plugin: bool = False) -> None:
    """Give every choice field whose options a registry owns the options the engine listed (the
    plug-in's narrower ones, such as its losses, with ``plugin``)."""
    _offer(form, info.choices)
    offer_plugin_choices(form, info, plugin)
    if "params" in form.fields:
        form["params"].set_catalog(info.method_params)


def offer_plugin_choices(form: Form, info: EngineInfo, plugin: bool) -> None:
    """The fields the plug-in narrows offer its options while ``plugin`` (freeze features), else
    all; a chosen value no longer offered stays, and validation flags it."""
    _offer(form, {name: (info.plugin_choices if plugin else info.choices)[name] for name in info.plugin_choices})


def _offer(form: Form, choices: dict[str, list[tuple[Any, str]]]) -> None:
    for name, options in choices.items():
        field = form.fields.get(name)
        if isinstance(field, ChoiceField):
            field.set_options([(value, setting_text(text)) for value, text in options])


def fill_form(form: Form, config: RunConfig, names: Iterable[str] | None = None) -> None:
    """Show ``config`` in the fields that map to it (only those in ``names``, when given)."""
    names = None if names is None else set(names)
    for field in form.fields.values():
        if field.config_path and (names is None or field.key in names):
            field.set_value(setting(RunConfig, field.config_path).get(config))


def config_from_form(form: Form, base: RunConfig) -> RunConfig:
    """A copy of ``base`` with every mapped field's value, checked: raises ConfigProblems naming
    every field to fix (unreadable text and every rule the config breaks), before any data loads."""
    config = RunConfig.from_dict(base.to_dict())
    unreadable: list[ConfigError] = []
    for field in form.fields.values():
        if field.config_path:
            try:
                setting(RunConfig, field.config_path).set(config, field.value())
            except ConfigError as error:
                unreadable.append(error)
    problems = unreadable + [error for error in config.problems()
                             if error.field_name not in {e.field_name for e in unreadable}]
    if problems:
        raise ConfigProblems(problems)
    return config.validate()


def local_settings() -> tuple[str, ...]:
    """The fields a preset leaves alone: this machine's and user's (data path, experiment, …)."""
    return tuple(item.name for item in settings(RunConfig) if item.knob.local)
