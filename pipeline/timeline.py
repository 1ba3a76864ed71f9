"""The timeline: which keyframes and fraction t make each frame, its state, its segments.

`plan_timeline` is the project's planner: one `FramePlan` per position, each a planned frame
(frame_recipe.py: its recipe and content key) with its place on the timeline. A frame's key
hashes the render settings, the inputs of the two keyframes around it (not their positions),
the eased fraction t and the embedding interpolation; a keyframe's own frame hashes only the
settings and that keyframe. The t values of a segment come from `segment_fractions`: the one
place where a planner chooses them (audio timing, even spacing).
"""

import itertools
from dataclasses import dataclass
from enum import Enum

from .frame_recipe import FrameRecipe, KeyframeInput, PlannedFrame, frame_key, keyframe_recipe
from .interpolation import ease
from .project import Keyframe, Project, RenderSettings


class FrameState(str, Enum):
    KEYFRAME = "keyframe"  # a keyframe's frame, rendered
    RENDERED = "rendered"
    MISSING = "missing"
    STALE = "stale"  # not rendered for its current inputs, but an older render exists


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


def segment_fractions(project: Project, start: Keyframe, end: Keyframe) -> list[float]:
    """The t of each frame after `start` up to `end` (whose own frame is t = 1), eased.

    A planner that times a segment otherwise (to its span of a soundtrack, to even steps between
    its frames) chooses its t here, from the segment's keyframes and the project."""
    length = end.frame - start.frame
    return [ease(step / length, project.easing) for step in range(1, length + 1)]


def plan_timeline(project: Project) -> list[FramePlan]:
    """One plan per frame, in order."""
    keyframes, settings = project.keyframes, project.settings

    def plan(recipe: FrameRecipe, index: int, segment: int) -> FramePlan:
        return FramePlan(frame_key(recipe), recipe, index, segment)

    plans = [plan(keyframe_recipe(settings, keyframes[0]), 0, 0)]
    for i, (a, b) in enumerate(itertools.pairwise(keyframes)):
        for step, t in enumerate(segment_fractions(project, a, b), start=1):
            recipe = FrameRecipe(settings, KeyframeInput(a), KeyframeInput(b), t, project.interpolation)
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

    @property
    def state(self) -> str:
        if self.rendered == self.total:
            return "rendered"
        if self.stale:
            return "stale"
        return "missing" if self.rendered == 0 else "partial"


def segment_status(project: Project, states: list[FrameState]) -> list[SegmentStatus]:
    """Per segment: how many of its frames are rendered or stale, of how many."""
    done = {FrameState.RENDERED, FrameState.KEYFRAME}
    result = []
    for seg in segments(project):
        span = states[seg.first : seg.last + 1]
        rendered = sum(s in done for s in span)
        stale = sum(s == FrameState.STALE for s in span)
        result.append(SegmentStatus(seg, rendered, stale, len(span)))
    return result
