"""Build ``resources/digits.npz``, the offline demo dataset. Run once by a developer.

Source: the UCI "Optical Recognition of Handwritten Digits" data set (Alpaydin & Kaynak,
1998; doi:10.24432/C50P49, licence CC BY 4.0), in the 8×8 form scikit-learn ships as
``sklearn.datasets.load_digits``: 1797 images with grey values 0..16 and labels 0..9.

scikit-learn is needed only here, never at run time::

    pip install scikit-learn
    python tools/build_demo_data.py

The file holds ``images`` (uint8, 1797×8×8, values 0..16), ``labels`` (uint8, 1797) and
``source`` (a one-line attribution); it loads with ``np.load(..., allow_pickle=False)``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "digits.npz"
SOURCE = (
    "UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998), "
    "8x8 version from scikit-learn's load_digits; CC BY 4.0; doi:10.24432/C50P49"
)


def build(out: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images
    if images.shape != (1797, 8, 8) or images.min() < 0 or images.max() > 16:
        raise SystemExit(f"unexpected digits data: shape {images.shape}, range {images.min()}..{images.max()}")
    if not np.array_equal(images, np.round(images)):
        raise SystemExit("digits data has non-integer grey values")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        images=images.astype(np.uint8),
        labels=digits.target.astype(np.uint8),
        source=np.array(SOURCE),
    )
    print(f"wrote {out} ({out.stat().st_size} bytes): {len(images)} images, "
          f"per class {np.bincount(digits.target).tolist()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    build(parser.parse_args().out)
