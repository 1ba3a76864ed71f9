"""In-between frames for two conditioning files: what `/interpolate` renders.

The files come from outside (an API client), so nothing in their metadata names a frame:
a frame's key hashes the tensors' own bytes (with the render settings that are really used
and t). A file whose metadata claims another prompt or seed than its tensors therefore can
never put its pictures under the key of an honest frame.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from .conditioning import Conditioning, blend
from .errors import check_integer
from .frame_store import FrameStore
from .limits import limits
from .presets import DEMO, DEMO_VERSION
from .renderer import DEFAULT_BATCH, Backend
from .timeline import RENDER_VERSION

INTERPOLATION = "lerp"  # how text embeddings travel between the two files; noise always uses slerp


def check_frame_count(frames: int) -> None:
    """In-betweens per call: at least 1, at most a segment's limit (SDVC_MAX_SEGMENT_FRAMES)."""
    check_integer(frames, "frames", low=1)
    limits().check("max_segment_frames", "frames", frames)


def tensor_digest(conditioning: Conditioning) -> str:
    """Hash of the tensors' names, dtypes, shapes and bytes; the metadata plays no part."""
    digest = hashlib.sha256()
    for name in sorted(conditioning.tensors):
        tensor = conditioning.tensors[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def inbetween_key(start: Conditioning, end: Conditioning, t: float) -> str:
    """A frame's key from the tensors it blends, the settings it renders with, and t."""
    settings = start.settings
    content = {
        "kind": "inbetween",
        "render_version": RENDER_VERSION,
        "settings": asdict(settings),
        "demo": DEMO_VERSION if settings.model == DEMO else "",
        "start": tensor_digest(start),
        "end": tensor_digest(end),
        "t": repr(t),
        "interpolation": INTERPOLATION,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def inbetween_fractions(frames: int) -> list[float]:
    """t = i / (frames + 1) for i = 1..frames: evenly spaced, never the keyframes themselves."""
    return [i / (frames + 1) for i in range(1, frames + 1)]


def render_inbetweens(
    start: Conditioning,
    end: Conditioning,
    frames: int,
    store: FrameStore,
    backend: Backend,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Keys of `frames` in-between frames in order, rendering those not in the store.

    The two conditionings must already be checked against each other and the model
    (`conditioning_fit.check_pair`, `check_for_model`).
    """
    # 1. Check the count and plan each frame's key.
    check_frame_count(frames)
    fractions = inbetween_fractions(frames)
    keys = [inbetween_key(start, end, t) for t in fractions]
    # 2. Render the missing ones batch by batch, storing each under its key.
    missing = [(key, t) for key, t in zip(keys, fractions, strict=True) if not store.has(key)]
    settings = start.settings
    for first in range(0, len(missing), batch_size):
        batch = missing[first : first + batch_size]
        images: list[np.ndarray] = backend.render(settings, [blend(start, end, t, INTERPOLATION) for _, t in batch])
        for (key, _), image in zip(batch, images, strict=True):
            store.write(key, image)
        if progress:
            progress(first + len(batch), len(missing))
    return keys
