"""Sweeps: the paper's table (methods × datasets × imbalance ratios × seeds, each base run
followed by the GML plug-in and the ensemble) as one command, on this machine or on Ray.

Modules: ``spec`` (the sweep file, checked before anything runs), ``cells`` (a cell's folder,
status file and run), ``backends`` (local processes or Ray tasks), ``cost`` (the dry-run
estimate), ``report`` (mean ± std over seeds as CSV / Markdown / LaTeX). docs/sweeps.md.
"""
