"""The timeline: which keyframes and fraction t make each frame, its content key, its state.

A frame's key hashes everything that decides its pixels: the render settings, the inputs of
the two keyframes around it (not their positions), the eased fraction t and the embedding
interpolation. A keyframe's own frame hashes only the settings and that keyframe, so it is
the same frame from both of its segments, and the same as `/generate` gives for it.
"""

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass
from enum import Enum

from .interpolation import ease
from .presets import DEMO, DEMO_VERSION
from .project import Keyframe, Project, RenderSettings

RENDER_VERSION = 1  # bump when a change to rendering changes pixels for the same inputs


class FrameState(str, Enum):
    KEYFRAME = "keyframe"  # a keyframe's frame, rendered
    RENDERED = "rendered"
    MISSING = "missing"
    STALE = "stale"  # not rendered for its current inputs, but an older render exists


@dataclass(frozen=True)
class FramePlan:
    index: int  # position on the timeline
    key: str
    start: Keyframe
    end: Keyframe  # the same as start on a keyframe's own frame
    t: float  # eased fraction between start and end
    segment: int  # the segment it is in; a keyframe's own frame: the segment ending there (frame 0: segment 0)

    @property
    def is_keyframe(self) -> bool:
        return self.t == 0.0


@dataclass(frozen=True)
class Segment:
    index: int
    first: int  # frame of its start keyframe
    last: int  # frame of its end keyframe


def frame_key(settings: RenderSettings, start: dict, end: dict, t: float, interpolation: str) -> str:
    """Hash of a frame's inputs; start and end identify the keyframes (Keyframe.inputs())."""
    if t == 1.0:
        start, t = end, 0.0
    if t == 0.0:
        end, interpolation = start, ""
    content = {
        "render_version": RENDER_VERSION,
        "settings": asdict(settings),
        "demo": DEMO_VERSION if settings.model == DEMO else "",
        "start": start,
        "end": end,
        "t": repr(t),
        "interpolation": interpolation,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def keyframe_key(settings: RenderSettings, keyframe: Keyframe) -> str:
    return frame_key(settings, keyframe.inputs(), keyframe.inputs(), 0.0, "")


def segments(project: Project) -> list[Segment]:
    pairs = zip(project.keyframes, project.keyframes[1:], strict=False)
    return [Segment(i, a.frame, b.frame) for i, (a, b) in enumerate(pairs)]


def plan_timeline(project: Project) -> list[FramePlan]:
    """One plan per frame, in order."""
    keyframes, settings = project.keyframes, project.settings
    plans = [FramePlan(0, keyframe_key(settings, keyframes[0]), keyframes[0], keyframes[0], 0.0, 0)]
    for i, (a, b) in enumerate(itertools.pairwise(keyframes)):
        length = b.frame - a.frame
        for step in range(1, length + 1):
            t = ease(step / length, project.easing)
            key = frame_key(settings, a.inputs(), b.inputs(), t, project.interpolation)
            if t == 1.0:
                plans.append(FramePlan(b.frame, key, b, b, 0.0, i))
            else:
                plans.append(FramePlan(a.frame + step, key, a, b, t, i))
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
