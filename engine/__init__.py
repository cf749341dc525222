"""The Long-Tail Studio engine: training, methods, metrics and checkpoints. No Qt."""
