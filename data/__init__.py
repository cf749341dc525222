"""Datasets for Long-Tail Studio: images, labels and class counts. No Qt, no training logic."""
