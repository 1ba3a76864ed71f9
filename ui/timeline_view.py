"""The timeline as the studio shows it: an HTML strip of frame cells, a segment table, a selector.

Each frame is one cell coloured by its state (pipeline.timeline.FrameState): grey missing,
green rendered, indigo keyframe, amber stale, sky blue draft (a preview, pipeline/draft.py). Cells
carry `data-state` and `data-frame`, and frames of segments left out of the selection are dimmed.
The segment table shows each rendered segment's smoothness and largest jump (pipeline.smoothness);
`change_lane` is each frame's change, for the timeline component's "change" lane.
"""

import html
from dataclasses import dataclass

from pipeline.draft import plan_drafts
from pipeline.frame_store import FrameStore
from pipeline.project import Project
from pipeline.smoothness import frame_changes, segment_scores
from pipeline.timeline import FrameState, SegmentStatus, plan_timeline, segment_status, segments

LEGEND = (
    (FrameState.KEYFRAME, "keyframe"),
    (FrameState.RENDERED, "rendered"),
    (FrameState.DRAFT, "draft"),
    (FrameState.STALE, "stale (inputs changed)"),
    (FrameState.MISSING, "not rendered"),
)
TABLE_HEADERS = ["Segment", "Frames", "Rendered", "State", "Smoothness", "Max jump"]  # scores: "" until rendered


@dataclass(frozen=True)
class TimelineView:
    html: str
    table: list[list]  # one row per segment, TABLE_HEADERS columns
    choices: list[tuple[str, int]]  # (label, segment index) for the segment selector
    selected: list[int]


def segment_label(status: SegmentStatus) -> str:
    seg = status.segment
    return f"{seg.index + 1} · frames {seg.first}–{seg.last}"


def build_view(project: Project, store: FrameStore, project_id: str, selected: list[int] | None) -> TimelineView:
    """States of every frame of the project, drawn; `selected` None means every segment."""
    plans = plan_timeline(project, store.spacings)
    states = store.states(plans, project_id, plan_drafts(project, plans))
    statuses = segment_status(project, states)
    measured = segment_scores(store, plans, [s.segment for s in statuses])
    every = [s.segment.index for s in statuses]
    chosen = every if selected is None else [i for i in selected if i in every]
    dimmed = {p.index for p in plans if p.segment not in chosen and not p.is_keyframe}
    return TimelineView(
        html=strip_html(states, {k.frame for k in project.keyframes}, dimmed),
        table=[
            [s.segment.index + 1, f"{s.segment.first}–{s.segment.last}", f"{s.rendered}/{s.total}", s.state]
            + ([f"{m.smoothness:.3f}", f"{m.max_jump:.2f}"] if m else ["", ""])
            for s, m in zip(statuses, measured, strict=True)
        ],
        choices=[(segment_label(s), s.segment.index) for s in statuses],
        selected=chosen,
    )


def change_lane(project: Project, store: FrameStore) -> list[float]:
    """The timeline's optional "change" lane: how much each frame changed from the one before, 0..1."""
    plans = plan_timeline(project, store.spacings)
    return frame_changes(store, plans, segments(project))


def strip_html(states: list[FrameState], keyframe_frames: set[int], dimmed: set[int]) -> str:
    counts = {state: states.count(state) for state, _ in LEGEND}
    cells = []
    for index, state in enumerate(states):
        classes = f"sdvc-cell sdvc-{state.value}" + (" sdvc-dim" if index in dimmed else "")
        mark = f'<span class="sdvc-mark">{index}</span>' if index in keyframe_frames else ""
        cells.append(
            f'<div class="{classes}" data-frame="{index}" data-state="{state.value}" '
            f'title="frame {index}: {state.value}">{mark}</div>'
        )
    legend = "".join(
        f'<span class="sdvc-key"><i class="sdvc-swatch sdvc-{state.value}"></i>{html.escape(label)} '
        f'<b data-count="{state.value}">{counts[state]}</b></span>'
        for state, label in LEGEND
    )
    return (
        f'<div class="sdvc-timeline" data-frames="{len(states)}">'
        f'<div class="sdvc-strip">{"".join(cells)}</div>'
        f'<div class="sdvc-legend">{legend}</div></div>'
    )


def placeholder_html(message: str) -> str:
    """What the strip area shows before the first project is drawn."""
    return f'<div class="sdvc-timeline sdvc-placeholder">{html.escape(message)}</div>'
