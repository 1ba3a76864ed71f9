"""Candidates: a prompt row rendered from several seeds at once, for the user to pick one.

Candidate k is the keyframe with seed `seed + k`, stored in the frame store under that
keyframe's own key (timeline.keyframe_key), rendered by the render core (renderer.py). Picking one puts its seed in the project, so the
keyframe's frame is already rendered; a re-roll (the next seeds) renders new ones and leaves
the earlier ones in the store, so going back costs nothing.

CPU kernels may round differently for a batch of four than for one, so a candidate can differ
from the same keyframe rendered alone by at most one level on a few pixels; the store keeps
whichever was rendered first, and both the timeline and `/generate` then read that one.
"""

from dataclasses import replace

import numpy as np

from .backends import Backend
from .errors import InputError, check_integer
from .frame_recipe import keyframe_recipe, plan_frame
from .frame_store import FrameStore
from .limits import limits
from .project import MAX_SEED, Keyframe, RenderSettings
from .renderer import render_and_read


def check_count(count: int) -> None:
    """How many candidates one batch makes: 1 to Limits.max_candidates (SDVC_MAX_CANDIDATES)."""
    check_integer(count, "count", low=1)
    limits().check("max_candidates", "count", count)


def check_candidates(keyframe: Keyframe, count: int) -> None:
    check_count(count)
    if keyframe.seed + count - 1 > MAX_SEED:
        raise InputError(f"seed must be at most {MAX_SEED - count + 1} for {count} candidates, got {keyframe.seed}")


def candidate_keyframes(keyframe: Keyframe, count: int) -> list[Keyframe]:
    """The keyframe with seeds seed, seed + 1, ..., seed + count - 1."""
    return [replace(keyframe, seed=keyframe.seed + k) for k in range(count)]


def render_candidates(
    settings: RenderSettings, keyframe: Keyframe, count: int, store: FrameStore, backend: Backend
) -> list[tuple[int, np.ndarray]]:
    """(seed, (H, W, 3) uint8 image) for each candidate; the missing ones rendered in one batch."""
    # 1. Check the input.
    check_candidates(keyframe, count)
    # 2. Each candidate is a keyframe's own frame; those already in the store cost nothing.
    candidates = candidate_keyframes(keyframe, count)
    frames = [plan_frame(keyframe_recipe(settings, k)) for k in candidates]
    # 3. Render the missing ones in one batch (pinned meanwhile, then the store evicts), and read all.
    images = render_and_read(frames, store, backend, batch_size=count)
    return [(k.seed, image) for k, image in zip(candidates, images, strict=True)]
