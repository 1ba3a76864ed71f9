"""The timeline: which keyframes and fraction t make each frame, its state, its segments.

`plan_timeline` is the project's planner: one `FramePlan` per position, each a planned frame
(frame_recipe.py: its recipe and content key) with its place on the timeline. A frame's key
hashes the render settings, the inputs of the two keyframes around it (not their positions),
the eased fraction t and the embedding interpolation; a keyframe's own frame hashes only the
settings and that keyframe. The t values of a segment come from `segment_fractions`: the one
place where a planner chooses them (audio timing, even spacing).

On a spline path (`"path": "spline"`) a frame of segment i also depends on keyframes i - 1 and
i + 2 (where they exist), so editing keyframe k re-renders segments k - 2 to k + 1. With even
spacing (`"spacing": "even"`) a segment's t are those its probe stored (spacing.py, probe.py);
until a render probes it, its frames are planned at uniform t under an UNPROBED tag: keys no
render makes, so the segment shows as missing.
"""

import itertools
from dataclasses import dataclass
from enum import Enum

from .audio_timing import audio_fractions
from .frame_recipe import FrameRecipe, KeyframeInput, PlannedFrame, frame_key, keyframe_recipe
from .interpolation import ease
from .project import Keyframe, Project, RenderSettings
from .spacing import SpacingStore, spacing_key

UNPROBED = (("spacing", "unprobed"),)  # the tag of an even segment's frames before its probe


class FrameState(str, Enum):
    KEYFRAME = "keyframe"  # a keyframe's frame, rendered
    RENDERED = "rendered"
    MISSING = "missing"
    STALE = "stale"  # not rendered for its current inputs, but an older render exists
    DRAFT = "draft"  # no final, but a draft preview of its current inputs (draft.py)
    RENDERING = "rendering"  # missing or stale, and in the render running now (never read from the store)


@dataclass(frozen=True)
class FramePlan(PlannedFrame):
    index: int  # position on the timeline
    segment: int  # the segment it is in; a keyframe's own frame: the segment ending there (frame 0: segment 0)

    @property
    def is_keyframe(self) -> bool:
        return self.recipe.t == 0.0


@dataclass(frozen=True)
class Segment:
    index: int
    first: int  # frame of its start keyframe
    last: int  # frame of its end keyframe


def keyframe_key(settings: RenderSettings, keyframe: Keyframe) -> str:
    """The key of a keyframe's own frame (the same on the timeline, as a candidate and from /generate)."""
    return frame_key(keyframe_recipe(settings, keyframe))


def segments(project: Project) -> list[Segment]:
    pairs = zip(project.keyframes, project.keyframes[1:], strict=False)
    return [Segment(i, a.frame, b.frame) for i, (a, b) in enumerate(pairs)]


def uniform_fractions(project: Project, start: Keyframe, end: Keyframe) -> list[float]:
    """The t of each frame after `start` up to `end`, at equal steps of the eased fraction."""
    length = end.frame - start.frame
    return [ease(step / length, project.easing) for step in range(1, length + 1)]


def segment_recipe(
    project: Project, segment: int, t: float, settings: RenderSettings | None = None, tags=()
) -> FrameRecipe:
    """The recipe of the frame at t of a segment (under other `settings`, for a probe)."""
    keyframes = project.keyframes
    before = KeyframeInput(keyframes[segment - 1]) if segment > 0 else None
    after = KeyframeInput(keyframes[segment + 2]) if segment + 2 < len(keyframes) else None
    start, end = KeyframeInput(keyframes[segment]), KeyframeInput(keyframes[segment + 1])
    return FrameRecipe(
        settings or project.settings, start, end, t, project.interpolation, tags, project.path, before, after
    )


def segment_spacing_key(project: Project, segment: int) -> str:
    """What a segment's even t are stored under: the keys of its uniform frames (all its inputs)."""
    start, end = project.keyframes[segment], project.keyframes[segment + 1]
    keys = [frame_key(segment_recipe(project, segment, t)) for t in uniform_fractions(project, start, end)]
    return spacing_key(keys, project.easing)


def segment_fractions(
    project: Project, start: Keyframe, end: Keyframe, spacings: SpacingStore | None = None
) -> list[float] | None:
    """The t of each frame after `start` up to `end` (whose own frame is t = 1), eased.

    A planner that times a segment otherwise (to its span of a soundtrack, to even steps between
    its frames) chooses its t here, from the segment's keyframes and the project. Audio timing:
    t follows the soundtrack's onsets (audio_timing.py). Even spacing:
    the t stored for the segment's inputs in `spacings`, None until it is probed."""
    if project.timing == "audio":  # a soundtrack there (parse_project checks), spacing uniform
        return [ease(t, project.easing) for t in audio_fractions(project.audio, project.fps, start.frame, end.frame)]
    uniform = uniform_fractions(project, start, end)
    if project.spacing == "uniform" or len(uniform) == 1:
        return uniform
    key = segment_spacing_key(project, project.keyframes.index(start))
    return spacings.get(key, len(uniform)) if spacings is not None else None


def plan_timeline(project: Project, spacings: SpacingStore | None = None) -> list[FramePlan]:
    """One plan per frame, in order; `spacings`: the store's even t (frame_store.FrameStore.spacings)."""
    keyframes, settings = project.keyframes, project.settings

    def plan(recipe: FrameRecipe, index: int, segment: int) -> FramePlan:
        return FramePlan(frame_key(recipe), recipe, index, segment)

    plans = [plan(keyframe_recipe(settings, keyframes[0]), 0, 0)]
    for i, (a, b) in enumerate(itertools.pairwise(keyframes)):
        fractions, tags = segment_fractions(project, a, b, spacings), ()
        if fractions is None:  # even spacing, not probed yet
            fractions, tags = uniform_fractions(project, a, b), UNPROBED
        for step, t in enumerate(fractions, start=1):
            recipe = segment_recipe(project, i, t, tags=() if t == 1.0 else tags)
            plans.append(plan(recipe, a.frame + step, i))
    return plans


def frames_of_segments(plans: list[FramePlan], selected: set[int]) -> list[FramePlan]:
    """The frames belonging to the selected segments, both end keyframes included."""
    # A keyframe after frame 0 also starts the next segment; frame 0 starts segment 0 only.
    return [p for p in plans if p.segment in selected or (p.is_keyframe and p.index > 0 and p.segment + 1 in selected)]


@dataclass(frozen=True)
class SegmentStatus:
    segment: Segment
    rendered: int  # frames of the segment (both ends included) that are in the store
    stale: int
    total: int
    drafts: int = 0  # frames with no final but a draft

    @property
    def state(self) -> str:
        if self.rendered == self.total:
            return "rendered"
        if self.drafts and self.rendered + self.drafts == self.total:
            return "draft"
        if self.stale:
            return "stale"
        return "missing" if self.rendered == 0 else "partial"


def segment_status(project: Project, states: list[FrameState]) -> list[SegmentStatus]:
    """Per segment: how many of its frames are rendered (finals), drafts or stale, of how many."""
    done = {FrameState.RENDERED, FrameState.KEYFRAME}
    result = []
    for seg in segments(project):
        span = states[seg.first : seg.last + 1]
        rendered = sum(s in done for s in span)
        stale = sum(s == FrameState.STALE for s in span)
        result.append(SegmentStatus(seg, rendered, stale, len(span), span.count(FrameState.DRAFT)))
    return result
