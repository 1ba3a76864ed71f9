"""The timeline without a browser: prompt schedules, the compact payload, and the gestures'
handlers (a drag turns exactly its two segments stale; a bad gesture changes nothing)."""

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice
from pipeline.project import parse_project
from pipeline.prompt_schedule import parse_schedule
from pipeline.timeline import plan_timeline
from pipeline.timeline_payload import timeline_payload

ROWS = [
    {"frame": 0, "prompt": "a", "negative_prompt": "", "style": "none", "seed": 1},
    {"frame": 4, "prompt": "b", "negative_prompt": "", "style": "none", "seed": 2},
    {"frame": 8, "prompt": "c", "negative_prompt": "", "style": "none", "seed": 3},
]
SETTINGS = {
    "model": "demo",
    "width": 64,
    "height": 64,
    "steps": 4,
    "guidance": 0.0,
    "scheduler": "euler",
    "fps": 8,
    "easing": "linear",
    "interpolation": "lerp",
    "spacing": "uniform",
    "path": "straight",
}


def test_schedules_parse_with_or_without_braces():
    assert parse_schedule('{"0": "a red fox", "48": "a city at night"}') == [(0, "a red fox"), (48, "a city at night")]
    assert parse_schedule('"48": "a city, at night",\n"0": "a red fox",\n') == [
        (0, "a red fox"),
        (48, "a city, at night"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"0": "a",\n"4" "b"', "schedule line 2: Expecting ':' delimiter"),
        ('"0": "a",\n"x": "b"', "schedule line 2: a frame must be a whole number"),
        ('"0": "a",\n"0": "b"', "schedule line 2: frame 0 is given twice"),
        ('"0": "a",\n"4": 5', "schedule line 2: the prompt of frame 4 must be non-empty text"),
        ("  ", "schedule is empty"),
    ],
)
def test_a_bad_schedule_names_its_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_schedule(text)


def test_the_payload_is_one_char_a_frame_and_carries_lanes(tmp_path):
    project = parse_project({**SETTINGS, "keyframes": ROWS})
    store = FrameStore(tmp_path)
    states = store.states(plan_timeline(project))
    lanes = {"audio": {"peaks": [0.5] * 9, "beats": [2.0, 6.5], "tempo": 120.0}, "change": [0.1] * 9}
    payload = timeline_payload(project, states, store, str, [(1, 3)], lanes)
    assert payload["states"] == "m" * 9 and payload["dim"] == [[1, 3]] and payload["lanes"] == lanes
    assert payload["keyframes"][1] == {"frame": 4, "prompt": "b", "thumb": None, "stale": False}
    assert "lanes" not in timeline_payload(project, states, store, str)


def test_while_interpolate_runs_the_selected_segments_frames_to_do_show_as_rendering_now(tmp_path):
    from ui.timeline_view import build_view

    project = parse_project({**SETTINGS, "keyframes": ROWS})
    store = FrameStore(tmp_path)
    plans = plan_timeline(project)
    store.write(plans[2].key, np.zeros((8, 8, 3), dtype=np.uint8))
    assert build_view(project, store, "a" * 32, [1]).payload["states"] == "mmrmmmmmm"
    assert build_view(project, store, "a" * 32, [1], rendering=True).payload["states"] == "mmrmnnnnn"
    assert build_view(project, store, "a" * 32, None, rendering=True).payload["states"] == "nnrnnnnnn"


def _form(rows, session_project=None):
    from ui.form import Form

    return Form(SETTINGS, rows, {"id": "a" * 32, "project": session_project})


def test_a_drag_turns_exactly_its_two_segments_stale_and_a_collision_changes_nothing(tmp_path):
    from ui import timeline_edits
    from ui.context import AppContext

    ctx = AppContext(model=ModelChoice("demo", "demo", ""), store=FrameStore(tmp_path), backend=None)
    project = parse_project({**SETTINGS, "keyframes": ROWS})
    plans = plan_timeline(project)
    for plan in plans:
        ctx.store.write(plan.key, np.zeros((8, 8, 3), dtype=np.uint8))
    ctx.store.remember_positions("a" * 32, plans)
    three = [{**r} for r in ROWS] + [{"frame": 12, "prompt": "d", "negative_prompt": "", "style": "none", "seed": 4}]
    update = timeline_edits.move_keyframe.__wrapped__(ctx, _form(three), 4, 6)
    assert [r["frame"] for r in update.rows] == [0, 6, 8, 12]
    # Frames 1-7 of its two segments go stale, but for 3 and 7 whose t (1/2) on the same keyframes
    # was rendered before (at 2 and 6): their keys are in the store.
    assert update.view.payload["states"][:9] == "kssrsskrk"
    with pytest.raises(InputError, match="keyframe 3 at frame 8 is in the way"):
        timeline_edits.move_keyframe.__wrapped__(ctx, _form(three), 4, 8)
    with pytest.raises(InputError, match="frame 0 starts the timeline"):
        timeline_edits.move_keyframe.__wrapped__(ctx, _form(three), 0, 2)
    with pytest.raises(InputError, match="at most 1440 frames"):
        timeline_edits.move_keyframe.__wrapped__(ctx, _form(three), 12, 5000)
    added = timeline_edits.add_keyframe.__wrapped__(ctx, _form(three), 10)
    assert [(r["frame"], r["prompt"]) for r in added.rows][3] == (10, "c")  # the prompt of the one before
    removed = timeline_edits.remove_keyframe.__wrapped__(ctx, _form(three), 8)
    assert [r["frame"] for r in removed.rows] == [0, 4, 12]
