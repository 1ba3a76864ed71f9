"""Pixels of rendered frames, and the project's rule for comparing them (pipeline/renderer.py).

The same key rendered in the same batching is byte-identical: compare with np.array_equal.
Rendered in another batching (another batch size, a frame alone or beside others, on a remote
that batches differently) it may differ by float rounding, within the documented bound:
`assert_same_frame` checks exactly that bound, and that the shapes agree.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.renderer import BATCHING_MAX_LEVELS, BATCHING_MEAN_LEVELS


def pixels(path: str | Path) -> np.ndarray:
    """An image file's RGB pixels, (H, W, 3) uint8."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def assert_same_frame(a: np.ndarray, b: np.ndarray, what: str = "frame") -> None:
    """a and b are one frame rendered in two batchings: equal up to the documented rounding."""
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    difference = np.abs(a.astype(int) - b.astype(int))
    assert difference.max() <= BATCHING_MAX_LEVELS, f"{what}: a value differs by {difference.max()} levels"
    assert difference.mean() <= BATCHING_MEAN_LEVELS, f"{what}: mean difference {difference.mean():.4f} levels"
