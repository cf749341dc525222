"""The GML plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630).

Re-train only the classifier of a pretrained model with the Geometric Mean Loss, keep the old
classifier, ensemble the two and report old / new / ensemble class by class. No official code
of the paper was found (see ``engine/methods/gml.py``); docs/plugin.md lists what follows the
paper, what follows MiSLAS's classifier re-training stage and what goes beyond both.

Modules: ``config`` (TuneConfig), ``retrain`` (``tune``), ``heads`` (which part is the
classifier), ``features`` (the frozen backbone's cached features), ``ensemble`` (the t1/t2
ensemble and the temperature search), ``report`` (report.json / report.csv / run card).

The names below load on first use (PEP 562), so ``engine.plugin.config`` or ``.ensemble`` (the
CLI parser, ``predict``) do not import the re-training code.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "TuneConfig": "config", "TEMPERATURE_GRID": "ensemble", "TemperatureChoice": "ensemble",
    "ensemble_probabilities": "ensemble", "search_temperatures": "ensemble", "LinearHead": "heads",
    "freeze_backbone": "heads", "head_adapter": "heads", "TuneResult": "retrain", "tune": "retrain",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'engine.plugin' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.plugin.{_EXPORTS[name]}"), name)
