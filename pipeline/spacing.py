"""Even spacing: a segment's t chosen so that neighbouring frames are about equally far apart.

The reschedule of DiffMorpher (CVPR 2024): given the segment's frames at its uniform t (the probe,
probe.py) and the distances between neighbours (smoothness.py), the cumulative distance is a
curve C(t) through those points; inverting it at equal steps of C (shaped by the project's
easing: linear gives equal steps) gives the new t. They are rounded to a grid of 1/GRID, so the
same probe gives the same t, and the same frame keys, on any machine. Frame count and keyframes
stay as they are.

A segment's t are stored by its inputs (`SpacingStore`, in the frame store's folder, under a hash
of the keys its uniform frames have: settings, keyframes, path neighbours, t, interpolation), so
a later render or status finds them without probing, and only a segment whose inputs change is
probed again.
"""

import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .atomic_write import atomic_write
from .interpolation import ease

GRID = 1024  # t values are multiples of 1/GRID (exact binary fractions)
SPACING_VERSION = 1  # bump when the probe or the inversion changes the t it gives
SPACING_FOLDER = "spacing"  # in the frame store's folder


def even_fractions(probe_t: Sequence[float], distances: Sequence[float], easing: str = "linear") -> list[float]:
    """The t of a segment's frames after its start (the last is 1.0) at equal steps of distance.

    probe_t: the probe frames' t after the start (the last 1.0); distances: between each probe
    frame and the one before it (the first: from the start keyframe). Strictly increasing on the grid."""
    n = len(probe_t)
    cumulative = np.concatenate([[0.0], np.cumsum(distances)])  # (n + 1,) C at t = 0, probe_t...
    if n <= 1 or cumulative[-1] <= 0:  # nothing to even out
        return list(probe_t)
    targets = [ease(j / n, easing) * cumulative[-1] for j in range(1, n)]
    raw = np.interp(targets, cumulative, np.concatenate([[0.0], probe_t]))
    fractions, low = [], 0
    for j, t in enumerate(raw, start=1):
        # On the grid, each after the one before and leaving room for the rest before 1.
        step = min(max(round(float(t) * GRID), low + 1), GRID - (n - j))
        fractions.append(step / GRID)
        low = step
    return [*fractions, 1.0]


def spacing_key(uniform_keys: Sequence[str], easing: str) -> str:
    """The key a segment's even t are stored under: its uniform frames' keys and the easing."""
    content = {"version": SPACING_VERSION, "uniform": list(uniform_keys), "easing": easing}
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


class SpacingStore:
    """Segments' even t, one small JSON file each, under a folder of the frame store."""

    def __init__(self, store_root: Path) -> None:
        self.folder = Path(store_root) / SPACING_FOLDER

    def get(self, key: str, count: int) -> list[float] | None:
        """The stored t of `count` frames, or None (never probed, or a file that is not such t)."""
        try:
            value = json.loads((self.folder / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        ok = (
            isinstance(value, list)
            and len(value) == count
            and all(isinstance(t, float) for t in value)
            and all(a < b for a, b in itertools.pairwise([0.0, *value]))
            and value[-1] == 1.0
        )
        return value if ok else None

    def put(self, key: str, fractions: Sequence[float]) -> None:
        payload = json.dumps([float(t) for t in fractions])
        atomic_write(self.folder / f"{key}.json", lambda tmp: tmp.write_text(payload))
