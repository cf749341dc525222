"""The Long-Tail Studio desktop app: widgets that build configs, call the engine and show its events.

Nothing here trains or evaluates; long tasks run on worker threads (``gui.workers``).
Importing the package is cheap: torch and the engine load after the window is shown.
"""
