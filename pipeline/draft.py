"""Drafts: cheap previews of a project's frames, under their own keys, shown until finals exist.

A draft renders the same recipe as its final (same keyframes, t, interpolation) under draft
settings, with frame_recipe.DRAFT_TAG in its key, so a draft is never mistaken for a final and the
keys of finals do not change. The draft settings are the final's with the tiny decoder
(tiny_decoder.py) when the model has one and it is cheaper than the model's VAE; otherwise
(offline and not cached, a folder without `tiny_vae/`, a toy-width VAE) half the width and height
(multiples of 8, at least 64) and half the steps (at least 1), with a notice saying so, never an error.

Per position the timeline shows the final when it is in the store, else the draft (state
`draft`), else stale or missing. `iter_render_drafts` renders the drafts of positions that have
no final; `iter_shown_frames` yields what each position shows, drafts scaled to the project's
size, for a preview video. The store evicts drafts before any final (frame_store.py).
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from .backends import Backend
from .frame_recipe import DRAFT_TAG, frame_key
from .frame_store import FrameStore
from .project import TINY_DECODER, Project, RenderSettings
from .renderer import DEFAULT_BATCH, RenderProgress, render_frames
from .timeline import FramePlan, FrameState, frames_of_segments, plan_timeline

MIN_SIDE = 64  # the smallest frame side a model takes (project.check_size)


@dataclass(frozen=True)
class DraftSettings:
    settings: RenderSettings  # what drafts render under
    notice: str  # why drafts are smaller and take fewer steps; "" when the tiny decoder draws them


def _half_side(side: int) -> int:
    return max(MIN_SIDE, side // 2 // 8 * 8)


def cheaper_settings(settings: RenderSettings) -> RenderSettings:
    """Drafts without a tiny decoder: half the width and height, half the steps."""
    return replace(
        settings,
        width=_half_side(settings.width),
        height=_half_side(settings.height),
        steps=max(1, settings.steps // 2),
    )


def draft_settings(settings: RenderSettings) -> DraftSettings:
    """The final's settings with the tiny decoder, or, without one, a smaller size and fewer steps."""
    from .tiny_decoder import tiny_decoder_available, tiny_decoder_pays

    if not tiny_decoder_pays(settings.model):
        why = f"model {settings.model!r} has a VAE lighter than a tiny decoder"
    elif not tiny_decoder_available(settings.model):
        why = f"no tiny decoder for model {settings.model!r} (offline and not cached, or a folder without tiny_vae/)"
    else:
        return DraftSettings(replace(settings, decoder=TINY_DECODER), "")
    cheaper = cheaper_settings(settings)
    notice = f"{why}: drafts render at {cheaper.width}x{cheaper.height} with {cheaper.steps} steps instead"
    return DraftSettings(cheaper, notice)


def as_draft(plan: FramePlan, settings: RenderSettings) -> FramePlan:
    """The draft of a planned frame: the same recipe under draft settings, tagged, with its own key."""
    recipe = replace(plan.recipe, settings=settings, tags=(*plan.recipe.tags, DRAFT_TAG))
    return replace(plan, key=frame_key(recipe), recipe=recipe)


def plan_drafts(project: Project, plans: list[FramePlan]) -> list[FramePlan]:
    """The draft of each position's frame, in order (`plans`: the project's, from timeline.plan_timeline)."""
    settings = draft_settings(project.settings).settings
    return [as_draft(plan, settings) for plan in plans]


def states_with_drafts(project: Project, store: FrameStore, project_id: str | None = None) -> list[FrameState]:
    """Each position's state: keyframe or rendered (a final), draft, stale or missing."""
    plans = plan_timeline(project, store.spacings)
    return store.states(plans, project_id, plan_drafts(project, plans))


def iter_render_drafts(
    project: Project,
    store: FrameStore,
    backend: Backend,
    *,
    segments: set[int] | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[RenderProgress]:
    """Render the drafts of positions (of the selected segments) that have no final yet."""
    # 1. Plan finals and drafts; a position with its final needs no draft.
    plans = plan_timeline(project, store.spacings)
    drafts = plan_drafts(project, plans)
    wanted = [draft for plan, draft in zip(plans, drafts, strict=True) if not store.has(plan.key)]
    if segments is not None:
        wanted = frames_of_segments(wanted, segments)
    # 2. Render them, keeping every final and draft of the project from eviction meanwhile.
    yield from render_frames(wanted, store, backend, batch_size=batch_size, keep=[p.key for p in plans + drafts])


def shown_keys(project: Project, store: FrameStore) -> list[str]:
    """Per position, the key of what it shows: its final when stored, else its draft."""
    plans = plan_timeline(project, store.spacings)
    return [
        plan.key if store.has(plan.key) else draft.key
        for plan, draft in zip(plans, plan_drafts(project, plans), strict=True)
    ]


def iter_shown_frames(project: Project, store: FrameStore) -> Iterator[np.ndarray]:
    """What each position shows, in order, drafts scaled up to the project's size; all must be stored."""
    size = (project.settings.width, project.settings.height)
    for frame in store.read_many(shown_keys(project, store)):
        if frame.shape[1::-1] != size:  # a smaller draft (no tiny decoder): the video takes one size
            frame = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BICUBIC))
        yield frame
