"""The GML plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630).

Re-train only the heads of a pretrained model with the Geometric Mean Loss, keep the old heads,
ensemble the two and report old / new / ensemble class by class. It is a preset stage list on
the one training loop (``engine.loop``). No official code of the paper was found (see
``engine/methods/gml.py``); docs/plugin.md lists what follows the paper, what follows MiSLAS's
classifier re-training stage and what goes beyond both.

Modules: ``config`` (TuneConfig: the plug-in's own defaults), ``run`` (``tune``: the stage and the
report), ``heads`` (copies and fresh heads of any model family), ``ensemble`` (the temperature
search), ``report`` (TuneResult; report.json / report.csv / run card).
"""
from engine.plugin.config import TuneConfig
from engine.plugin.ensemble import TEMPERATURE_GRID, TemperatureChoice, search_temperatures
from engine.plugin.report import TuneResult
from engine.plugin.run import tune

__all__ = ["TEMPERATURE_GRID", "TemperatureChoice", "TuneConfig", "TuneResult", "search_temperatures", "tune"]
