"""The studio's Soundtrack panel without a server (a fake backend draws noise): an uploaded click
track is kept by content in the session's folder and drawn under the timeline with its beats;
Keyframes on beats, Snap and Fit move the rows; the timing option re-plans the in-betweens;
removing the track makes the video silent again; a bad file is refused naming it and changes
nothing; a saved project carries its track, and opening it or reloading the page shows it.
"""

import re
import zipfile
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from test_soundtrack import BPM, CLICKS, SECONDS, click_track
from test_studio_keyframes import ROWS, SETTINGS, ctx, quiet, session  # noqa: F401 (fixtures)

from pipeline.uploads import session_dir
from ui import handlers, soundtrack
from ui.form import Form

FPS = SETTINGS["fps"]
CLICK_FRAMES = [round(c * FPS) for c in CLICKS]  # 4, 8, 12, ...


@pytest.fixture
def with_track(ctx, session, tmp_path) -> tuple[Form, object]:  # noqa: F811
    """The form once the click track is uploaded (as the page reads it back), and that update."""
    upload = click_track(tmp_path / "my song.wav")
    update = soundtrack.set_soundtrack(ctx, Form(SETTINGS, ROWS, session), str(upload))
    form = Form(SETTINGS, ROWS, update.session, audio={"path": update.soundtrack.source, "start": 0.0})
    return form, update


def test_an_uploaded_track_is_kept_in_the_session_and_drawn_under_the_timeline(ctx, with_track, tmp_path):  # noqa: F811
    form, update = with_track
    kept = session_dir(form.sid) / update.soundtrack.source
    assert update.soundtrack.source.startswith("audio/") and update.soundtrack.source.endswith(".wav")
    assert kept.read_bytes() == (tmp_path / "my song.wav").read_bytes()
    assert update.soundtrack.player == str(kept) and update.soundtrack.start == 0.0
    tempo = float(re.match(r"\*\*([\d.]+) BPM\*\*", update.soundtrack.info)[1])
    assert abs(tempo - BPM) <= 0.05 * BPM and f"{len(CLICKS)} beats · {SECONDS:.1f} s" in update.soundtrack.info
    lane = update.view.payload["lanes"]["audio"]
    assert len(lane["peaks"]) == ROWS[-1]["frame"] + 1
    assert [round(b) for b in lane["beats"]] == [f for f in CLICK_FRAMES if f <= ROWS[-1]["frame"]]
    assert update.session["project"]["audio"] == {"path": update.soundtrack.source, "start": 0.0}
    refreshed = handlers.refresh(ctx, form)  # an edit elsewhere keeps the track
    assert refreshed.view.payload["lanes"]["audio"] == lane


def test_keyframes_on_beats_snap_and_fit_move_the_rows(ctx, with_track):  # noqa: F811
    form, _ = with_track
    on = soundtrack.keyframes_on_beats(ctx, replace(form, beat_every=4, beat_from=0))
    assert [r["frame"] for r in on.rows] == [0, CLICK_FRAMES[0], CLICK_FRAMES[4]]
    assert [r["prompt"] for r in on.rows] == [r["prompt"] for r in ROWS]  # only the frames move
    assert on.view.payload["lanes"]["audio"]["beats"][-1] <= CLICK_FRAMES[4]
    assert "frames 0, 4, 20" in on.status
    fitted = soundtrack.fit_keyframes(ctx, replace(form, rows=on.rows))
    assert [r["frame"] for r in fitted.rows] == [0, CLICK_FRAMES[0], SECONDS * FPS]
    snapped = soundtrack.snap_keyframes(ctx, form)  # frames 3 and 6: the beats at 4 and 8
    assert [r["frame"] for r in snapped.rows] == [0, CLICK_FRAMES[0], CLICK_FRAMES[1]]
    with pytest.raises(gr.Error, match="every 12 beats after frame 0"):
        soundtrack.keyframes_on_beats(ctx, replace(form, beat_every=12, beat_from=0))


def test_timing_follows_the_music_and_removing_the_track_makes_it_even_again(ctx, with_track):  # noqa: F811
    form, _ = with_track
    every = replace(form, rows=[*ROWS[:2], {**ROWS[2], "frame": 16}], selected=[0, 1])  # clicks at 4, 8, 12
    list(handlers.interpolate(ctx, every, quiet))
    assert ctx.backend.rendered == 17
    timed_form = replace(every, settings={**SETTINGS, "timing": "audio"})
    states = handlers.refresh(ctx, timed_form).view.payload["states"]
    assert states[:4] == "krrk" and states[-1] == "k" and "s" in states[4:]  # 3 → 16 follows the clicks
    list(handlers.interpolate(ctx, timed_form, quiet))
    assert 0 < ctx.backend.rendered - 17 < states.count("s")  # holds reuse a keyframe's or a beat's frame
    dropped = soundtrack.drop_soundtrack(ctx, timed_form)
    assert dropped.soundtrack.source is None and dropped.soundtrack.player is None
    assert dropped.settings["timing"] == "even" and "audio" not in dropped.view.payload.get("lanes", {})
    assert "audio" not in dropped.session["project"] and "silent" in dropped.status
    silent_but_timed = handlers.refresh(ctx, replace(timed_form, audio=None))
    assert "timing" in silent_but_timed.field_error and silent_but_timed.view is None


def test_moving_where_frame_0_plays_shifts_the_beats_and_says_so(ctx, with_track):  # noqa: F811
    form, _ = with_track
    later = handlers.refresh(ctx, replace(form, audio={**form.audio, "start": 0.5}))
    assert "frame 0 plays at 0.5 s" in later.soundtrack_info and later.soundtrack is None  # the player plays on
    beats = later.view.payload["lanes"]["audio"]["beats"]
    assert [round(b) for b in beats] == [f - 4 for f in CLICK_FRAMES if 0 <= f - 4 <= ROWS[-1]["frame"]]
    assert later.session["project"]["audio"]["start"] == 0.5
    past_the_end = handlers.refresh(ctx, replace(form, audio={**form.audio, "start": SECONDS + 1}))
    assert "start" in past_the_end.field_error and past_the_end.view is None and past_the_end.soundtrack_info is None


def test_after_a_refused_upload_the_player_holds_the_kept_track_again(ctx, with_track, session):  # noqa: F811
    form, update = with_track
    assert soundtrack.show_kept_track(ctx, form).soundtrack == update.soundtrack
    assert soundtrack.show_kept_track(ctx, Form(SETTINGS, ROWS, session)).soundtrack.player is None


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p.write_text("not a sound " * 100), "not an audio file we can read"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
    ],
)
def test_a_bad_track_is_refused_naming_it_and_nothing_changes(ctx, session, tmp_path, write, message):  # noqa: F811
    bad = tmp_path / "song.wav"
    write(bad)
    with pytest.raises(gr.Error, match=rf"soundtrack 'song.wav'.*{message}"):
        soundtrack.set_soundtrack(ctx, Form(SETTINGS, ROWS, session), str(bad))
    assert not (session_dir(session["id"]) / "audio").exists()


def test_a_saved_project_carries_its_track_and_opening_or_reloading_shows_it(ctx, with_track):  # noqa: F811
    form, update = with_track
    save = handlers.save_project(form)
    assert save.status == "Project saved with its soundtrack: download the .zip below."
    saved = Path(save.project_file)
    names = zipfile.ZipFile(saved).namelist()
    assert saved.suffix == ".zip" and any(n.endswith(".wav") for n in names)
    other = {"id": "0" * 32, "project": None}
    opened = handlers.open_project(ctx, str(saved), other)
    assert Path(opened.soundtrack.source).name == Path(update.soundtrack.source).name  # by content
    assert "BPM" in opened.soundtrack.info
    assert (session_dir(other["id"]) / opened.soundtrack.source).is_file()
    reloaded = handlers.restore(ctx, update.session)
    assert reloaded.soundtrack.source == update.soundtrack.source
    assert np.isclose(reloaded.soundtrack.start, 0.0) and reloaded.view.payload["lanes"]["audio"]["tempo"] > 0
