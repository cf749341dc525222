"""The GML plug-in of "No One Left Behind" (Du & Wu, CVPR 2023, arXiv 2303.03630).

Re-train only the classifier of a pretrained model with the Geometric Mean Loss, keep the old
classifier, ensemble the two and report old / new / ensemble class by class. No official code
of the paper was found (see ``engine/methods/gml.py``); docs/plugin.md lists what follows the
paper, what follows MiSLAS's classifier re-training stage and what goes beyond both.

Modules: ``config`` (TuneConfig), ``retrain`` (``tune``), ``heads`` (which part is the
classifier), ``features`` (the frozen backbone's cached features), ``ensemble`` (the t1/t2
ensemble and the temperature search), ``report`` (report.json / report.csv / run card).
"""
from engine.plugin.config import TuneConfig
from engine.plugin.ensemble import TEMPERATURE_GRID, TemperatureChoice, ensemble_probabilities, search_temperatures
from engine.plugin.heads import LinearHead, freeze_backbone, head_adapter
from engine.plugin.retrain import TuneResult, tune

__all__ = ["TEMPERATURE_GRID", "LinearHead", "TemperatureChoice", "TuneConfig", "TuneResult", "ensemble_probabilities",
           "freeze_backbone", "head_adapter", "search_temperatures", "tune"]
