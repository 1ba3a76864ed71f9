"""How evenly a segment changes: the distances between neighbouring frames, and scores made from them.

d_i = sqrt(1 - SSIM(frame_i, frame_i+1)), with scikit-image's structural similarity over the RGB
channels: a perceptual-ish distance that needs no downloaded weights. The square root matters:
1 - SSIM grows with the square of a small change, so its steps would not add up along a path
(halving a step would quarter it); its root is a metric (Brunet, Vrscay and Wang, IEEE TIP 2012),
whose steps do, as even spacing needs. Over a segment's frames (both keyframes included) the
scores of AID (NeurIPS 2024) are:

    smoothness   1 - Gini(d)        1: every step as large as the others; low: a near-cut
    consistency  mean(d)            how far one step moves
    max_jump     max(d) / mean(d)   1: no step larger than the average

A segment is scored only once all its frames are rendered. Its distances are kept in the frame
store's folder under a hash of its frames' keys, so a status or a redrawn table reads them back
instead of decoding the frames again (and a segment whose frames change is measured anew).
"""

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .atomic_write import atomic_write
from .timeline import FramePlan, Segment

DISTANCES_FOLDER = "distances"  # in the frame store's folder


@dataclass(frozen=True)
class Smoothness:
    smoothness: float  # 1 - Gini(d)
    consistency: float  # mean(d)
    max_jump: float  # max(d) / mean(d)

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in asdict(self).items()}


def frame_distance(a: np.ndarray, b: np.ndarray) -> float:
    """sqrt(1 - SSIM) of two (H, W, 3) uint8 frames: 0 for equal frames, about 1 for unrelated ones."""
    from skimage.metrics import structural_similarity  # scipy-heavy: imported only to measure

    similarity = structural_similarity(a, b, channel_axis=2, data_range=255)
    return math.sqrt(max(0.0, 1.0 - float(similarity)))


def neighbour_distances(frames: Sequence[np.ndarray]) -> list[float]:
    """d_i between frame i and frame i + 1, for consecutive frames."""
    return [frame_distance(a, b) for a, b in itertools.pairwise(frames)]


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one holds all."""
    v = np.sort(np.asarray(values, dtype=float))
    n, total = len(v), v.sum()
    if n == 0 or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1).dot(v) / (n * total))


def scores(distances: Sequence[float]) -> Smoothness:
    """The segment's scores from its neighbour distances (no change at all: perfectly even, no jump)."""
    mean = float(np.mean(distances)) if len(distances) else 0.0
    jump = float(np.max(distances)) / mean if mean > 0 else 1.0
    return Smoothness(1.0 - gini(distances), mean, jump)


def _cache_path(root: Path, keys: Sequence[str]) -> Path:
    return root / DISTANCES_FOLDER / f"{hashlib.sha256(' '.join(keys).encode()).hexdigest()}.json"


def segment_distances(store, plans: Sequence[FramePlan], segment: Segment) -> list[float] | None:
    """The segment's neighbour distances (from the cache when measured before); None until all its frames are in `store`."""
    keys = [plan.key for plan in plans[segment.first : segment.last + 1]]
    path = _cache_path(store.root, keys)
    try:
        cached = json.loads(path.read_text())
        if isinstance(cached, list) and len(cached) == len(keys) - 1:
            return [float(d) for d in cached]
    except (OSError, ValueError, TypeError):  # not measured yet, or a damaged cache file: measure again
        pass
    if not all(store.has(key) for key in keys):
        return None
    try:
        distances = neighbour_distances(list(store.read_many(keys)))
    except FileNotFoundError:  # evicted meanwhile by another process
        return None
    payload = json.dumps(distances)
    atomic_write(path, lambda tmp: tmp.write_text(payload))
    return distances


def segment_scores(store, plans: Sequence[FramePlan], segments: Sequence[Segment]) -> list[Smoothness | None]:
    """Each segment's scores, None for a segment not fully rendered."""
    measured = (segment_distances(store, plans, segment) for segment in segments)
    return [None if d is None else scores(d) for d in measured]


def frame_changes(store, plans: Sequence[FramePlan], segments: Sequence[Segment]) -> list[float]:
    """Per frame, how much it changed from the frame before, 0..1 (1: the largest step on the
    timeline); 0 for the first frame and for the frames of segments not fully rendered."""
    changes = [0.0] * len(plans)
    for segment in segments:
        for step, d in enumerate(segment_distances(store, plans, segment) or [], start=1):
            changes[segment.first + step] = d
    largest = max(changes, default=0.0)
    return [round(c / largest, 4) if largest > 0 else 0.0 for c in changes]
