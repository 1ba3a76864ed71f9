"""The timeline as the studio shows it: the payload its component draws, a segment table, a selector.

The page draws the payload (pipeline/timeline_payload.py: one char a frame, a few KB at 1,440
frames); thumbnails and frames are served from the store by URL (`file_url`). The segment
table shows each rendered segment's smoothness and largest jump (pipeline.smoothness). Lanes
under the frames: the soundtrack's peaks and beats, and each frame's change from the one before.
"""

from dataclasses import dataclass
from pathlib import Path

from pipeline.audio_timing import audio_lane
from pipeline.draft import plan_drafts
from pipeline.frame_store import FrameStore
from pipeline.project import Project
from pipeline.smoothness import frame_changes, segment_scores
from pipeline.timeline import FramePlan, FrameState, Segment, SegmentStatus, plan_timeline, segment_status
from pipeline.timeline_payload import timeline_payload

TABLE_HEADERS = ["Segment", "Frames", "Rendered", "State", "Smoothness", "Max jump"]  # scores: "" until rendered


@dataclass(frozen=True)
class TimelineView:
    payload: dict  # what the timeline component draws (pipeline/timeline_payload.py)
    table: list[list]  # one row per segment, TABLE_HEADERS columns
    choices: list[tuple[str, int]]  # (label, segment index) for the segment selector
    selected: list[int]


def segment_label(status: SegmentStatus) -> str:
    seg = status.segment
    return f"{seg.index + 1} · frames {seg.first}–{seg.last}"


def build_view(
    project: Project, store: FrameStore, project_id: str, selected: list[int] | None, rendering: bool = False
) -> TimelineView:
    """States of every frame of the project, drawn; `selected` None means every segment; `rendering`:
    an Interpolate of the selected segments is running, so their frames still to do show as rendering now."""
    plans = plan_timeline(project, store.spacings)
    states = store.states(plans, project_id, plan_drafts(project, plans))
    statuses = segment_status(project, states)
    measured = segment_scores(store, plans, [s.segment for s in statuses])
    every = [s.segment.index for s in statuses]
    chosen = every if selected is None else [i for i in selected if i in every]
    dimmed = [(s.segment.first + 1, s.segment.last - 1) for s in statuses if s.segment.index not in chosen]
    if rendering:
        states = _rendering_now(states, [s.segment for s in statuses if s.segment.index in chosen])
    return TimelineView(
        payload=timeline_payload(
            project, states, store, file_url, dimmed, lanes(project, store, plans, [s.segment for s in statuses])
        ),
        table=[
            [s.segment.index + 1, f"{s.segment.first}–{s.segment.last}", f"{s.rendered}/{s.total}", s.state]
            + ([f"{m.smoothness:.3f}", f"{m.max_jump:.2f}"] if m else ["", ""])
            for s, m in zip(statuses, measured, strict=True)
        ],
        choices=[(segment_label(s), s.segment.index) for s in statuses],
        selected=chosen,
    )


def _rendering_now(states: list[FrameState], rendered: list[Segment]) -> list[FrameState]:
    todo = {FrameState.MISSING, FrameState.STALE}
    inside = {i for seg in rendered for i in range(seg.first, seg.last + 1)}
    return [FrameState.RENDERING if i in inside and s in todo else s for i, s in enumerate(states)]


def lanes(project: Project, store: FrameStore, plans: list[FramePlan], segs: list[Segment]) -> dict:
    """The timeline's optional lanes: "audio" with a soundtrack; "change" (0..1 per frame, the
    largest step 1) once a segment is fully rendered."""
    drawn = {}
    if (audio := audio_lane(project)) is not None:
        drawn["audio"] = audio
    changes = frame_changes(store, plans, segs)
    if any(changes):
        drawn["change"] = [round(c, 2) for c in changes]
    return drawn


def file_url(path: Path) -> str:
    """A store file's URL on this server (the store is one of the app's allowed paths)."""
    return f"/gradio_api/file={path}"


def placeholder_payload() -> dict:
    """What the timeline shows before the first project is drawn: no frames."""
    return {"frames": 0, "fps": 8, "states": "", "keyframes": [], "dim": []}
