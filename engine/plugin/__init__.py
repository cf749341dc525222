"""The GML plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630), and the other
classifier repairs that run through it (decoupling's cRT, LWS and τ-norm, weight balancing's
stage 2: ``engine/methods/decoupling.py``, ``engine/methods/weight_balancing.py``).

Re-train only the heads of a pretrained model with the Geometric Mean Loss (or a repair's own
rule), keep the old heads, ensemble the two and report old / new / ensemble class by class. It is a preset stage list on
the one training loop (``engine.loop``). No official code of the paper was found (see
``engine/methods/gml.py``); docs/plugin.md lists what follows the paper, what follows MiSLAS's
classifier re-training stage and what goes beyond both.

Its settings are a run config with ``model.freeze = "features"`` (``config``: the "plugin"
preset, field-named settings over it, old plug-in run folders). Modules: ``run`` (``tune``: the
stage and the report), ``heads`` (copies and fresh heads of any model family), ``ensemble`` (the
temperature search), ``report`` (TuneResult; report.json / report.csv / run card).

The names below load on first use (PEP 562), so importing ``engine.plugin.config`` or
``.ensemble`` (``predict``) does not import the loop and the plug-in run.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"plugin_config": "config", "TEMPERATURE_GRID": "ensemble", "TemperatureChoice": "ensemble",
            "search_temperatures": "ensemble", "TuneResult": "report", "tune": "run"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'engine.plugin' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.plugin.{_EXPORTS[name]}"), name)
