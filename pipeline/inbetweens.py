"""In-between frames for two conditioning files: what `/interpolate` plans for the render core.

The files come from outside (an API client), so nothing in their metadata names a frame: each
is a `TensorInput`, whose part of a frame's key hashes the tensors' own bytes (with the render
settings that are really used and t; frame_recipe.py). A file whose metadata claims another
prompt or seed than its tensors therefore can never put its pictures under the key of an
honest frame. Rendering goes through the render core like every other path: the call's frames
are pinned, and the store is evicted to its size limit afterwards.
"""

from collections.abc import Callable

from .backends import Backend
from .conditioning import Conditioning
from .errors import check_integer
from .frame_recipe import FrameRecipe, PlannedFrame, TensorInput, plan_frame
from .frame_store import FrameStore
from .limits import limits
from .renderer import DEFAULT_BATCH, render_frames, run_render

INTERPOLATION = "lerp"  # how text embeddings travel between the two files; noise always uses slerp
TAGS = (("kind", "inbetween"),)  # their keys' own namespace, apart from the timeline's


def check_frame_count(frames: int) -> None:
    """In-betweens per call: at least 1, at most a segment's limit (SDVC_MAX_SEGMENT_FRAMES)."""
    check_integer(frames, "frames", low=1)
    limits().check("max_segment_frames", "frames", frames)


def inbetween_fractions(frames: int) -> list[float]:
    """t = i / (frames + 1) for i = 1..frames: evenly spaced, never the keyframes themselves."""
    return [i / (frames + 1) for i in range(1, frames + 1)]


def plan_inbetweens(start: Conditioning, end: Conditioning, frames: int) -> list[PlannedFrame]:
    """`frames` in-betweens of two conditionings, in order, under the start's settings."""
    check_frame_count(frames)
    a, b = TensorInput(start), TensorInput(end)  # each file's tensors hashed once
    return [plan_frame(FrameRecipe(start.settings, a, b, t, INTERPOLATION, TAGS)) for t in inbetween_fractions(frames)]


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
    # 1. Check the count and plan each frame.
    planned = plan_inbetweens(start, end, frames)
    # 2. Render the missing ones batch by batch through the render core.
    run_render(render_frames(planned, store, backend, batch_size=batch_size), progress)
    return [frame.key for frame in planned]
