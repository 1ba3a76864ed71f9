"""The studio's Soundtrack panel: upload a track, see its tempo and beats, place keyframes by it.

The track is kept in the session's folder by content (pipeline.uploads.keep_audio) and becomes
the project's `"audio": {"path", "start"}`; the timeline draws its waveform and beats under the
frames (ui/timeline_view.lanes), the timing option (a setting: "audio" moves the picture on the
beat) re-plans the in-betweens, and Create video's mp4 carries the sound. Keyframes on beats,
Snap to beats and Fit to audio move the keyframe rows (pipeline/beat_keyframes.py). Each
handler takes the page as a `form.Form` and returns a StudioUpdate, as ui/handlers.py's do.
"""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from pipeline.audio_analysis import AUDIO_FORMATS
from pipeline.beat_keyframes import fit_to_audio, on_beats, snap_to_beats
from pipeline.errors import InputError
from pipeline.limits import limits
from pipeline.project import Project
from pipeline.uploads import keep_audio, session_dir

from .context import AppContext
from .errors import user_errors
from .form import Form
from .page import SoundtrackPanel
from .timeline_edits import edited
from .timeline_view import build_view
from .update import SoundtrackView, StudioUpdate

if TYPE_CHECKING:  # events.py imports handlers.py, which shows soundtracks
    from .events import Events

TIMINGS = [("even steps", "even"), ("follow the music", "audio")]  # (label, project "timing")


def soundtrack_panel() -> tuple[SoundtrackPanel, gr.Dropdown]:
    """The panel, in the caller's layout, and its timing option (a project setting)."""
    with gr.Accordion("🎵 Soundtrack", open=False, elem_id="soundtrack-panel"):
        with gr.Row(equal_height=False):
            player = gr.Audio(
                label=f"Soundtrack ({', '.join(AUDIO_FORMATS)}, at most {limits().max_audio_seconds} s)",
                sources=["upload"],
                type="filepath",
                editable=False,
                interactive=True,  # its events are in the rows' render (see the timing option)
                scale=3,
                elem_id="soundtrack",
            )
            with gr.Column(scale=2):
                info = gr.Markdown(soundtrack_info(None), elem_id="soundtrack-info")
                start = gr.Number(
                    0,
                    label="Frame 0 plays at (s)",
                    info="seconds into the track",
                    interactive=True,  # its event is in the rows' render: gradio would infer it disabled
                    elem_id="audio-start",
                )
                timing = gr.Dropdown(
                    TIMINGS,
                    value="even",
                    label="In-between timing",
                    info="follow the music: moves on the beat, holds in the quiet",
                    interactive=True,  # its events are in the rows' render: gradio would infer it disabled
                    elem_id="timing",
                )
        with gr.Row(equal_height=True):
            every = gr.Number(4, label="Every N beats", min_width=100, elem_id="beat-every", interactive=True)
            from_frame = gr.Number(0, label="From frame", min_width=100, elem_id="beat-from", interactive=True)
            on_beats_button = gr.Button("Keyframes on beats", elem_id="on-beats")
            snap = gr.Button("Snap to beats", elem_id="snap-beats")
            fit = gr.Button("Fit to audio", elem_id="fit-audio")
    track = gr.State(None)
    return SoundtrackPanel(track, player, start, info, every, from_frame, on_beats_button, snap, fit), timing


def soundtrack_info(project: Project | None) -> str:
    """What the panel says of the project's track: tempo, beats, duration; how to add one without."""
    track = project.audio if project is not None else None
    if track is None:
        return "No soundtrack: upload one to see its waveform and beats under the timeline."
    analysis = track.analysis
    return (
        f"**{analysis.tempo:.1f} BPM** · {analysis.beats.size} beats · {analysis.duration:.1f} s; "
        f"frame 0 plays at {track.start:g} s"
    )


def soundtrack_view(project: Project) -> SoundtrackView:
    """The panel showing the project's soundtrack (or none)."""
    track = project.audio
    return SoundtrackView(
        source=track.source if track else None,
        start=track.start if track else 0.0,
        player=str(track.path) if track else None,
        info=soundtrack_info(project),
    )


@user_errors
def set_soundtrack(ctx: AppContext, form: Form, upload: str | None) -> StudioUpdate:
    """An uploaded track becomes the project's soundtrack (kept in the session's folder), from its start."""
    if not upload:
        raise InputError("soundtrack: no file was uploaded")
    source, _ = keep_audio(Path(upload), session_dir(form.sid), f"soundtrack {Path(upload).name!r}")
    start = form.audio["start"] if form.audio else 0.0
    with_track = replace(form, audio={"path": source, "start": start})
    project = with_track.project()
    return _shown(ctx, with_track, project, f"Soundtrack added: {soundtrack_info(project)}.")


def show_kept_track(ctx: AppContext, form: Form) -> StudioUpdate:
    """After a refused upload: the player holds the project's own track again (or none), not the refused file."""
    try:
        project = form.project()
    except InputError:  # the page has another error to fix first; its message is already shown
        return StudioUpdate()
    return StudioUpdate(soundtrack=soundtrack_view(project))


@user_errors
def drop_soundtrack(ctx: AppContext, form: Form) -> StudioUpdate:
    """The project without a soundtrack; its in-betweens step evenly again."""
    settings = {**form.settings, "timing": "even"}
    without = replace(form, audio=None, settings=settings)
    update = _shown(ctx, without, without.project(), "Soundtrack removed: the video is silent.")
    return replace(update, settings=settings)


def _shown(ctx: AppContext, form: Form, project: Project, status: str) -> StudioUpdate:
    return StudioUpdate(
        view=build_view(project, ctx.store, form.sid, form.selection(project)),
        session=form.saved(project),
        soundtrack=soundtrack_view(project),
        status=status,
        field_error="",
    )


@user_errors
def keyframes_on_beats(ctx: AppContext, form: Form) -> StudioUpdate:
    """Keyframes after the form's frame on every N-th beat."""
    frames = on_beats(form.project(), form.beat_every, form.beat_from)
    return _placed(ctx, form, frames, f"Keyframes on every {form.beat_every} beats from frame {form.beat_from}")


@user_errors
def snap_keyframes(ctx: AppContext, form: Form) -> StudioUpdate:
    """Every keyframe but the first on its nearest beat."""
    return _placed(ctx, form, snap_to_beats(form.project()), "Keyframes snapped to the beats")


@user_errors
def fit_keyframes(ctx: AppContext, form: Form) -> StudioUpdate:
    """The last keyframe where the track ends."""
    return _placed(ctx, form, fit_to_audio(form.project()), "Last keyframe at the track's end")


def _placed(ctx: AppContext, form: Form, frames: list[int], what: str) -> StudioUpdate:
    """The rows at these frames (their content unchanged), redrawn."""
    rows = [{**row, "frame": frame} for row, frame in zip(form.rows, frames, strict=True)]
    return edited(ctx, form, rows, f"{what}: frames {', '.join(map(str, frames))}.")


def soundtrack_events(on: "Events", inputs: set) -> None:
    """The panel's events (inside the rows' render: they read the rows)."""
    panel = on.page.soundtrack
    quick = {
        "inputs": inputs,
        "outputs": on.page.outputs,
        "api_visibility": "private",
        "concurrency_limit": None,
        "show_progress_on": [on.page.status],
    }

    def upload(data: dict) -> dict:
        return on.page.apply(set_soundtrack(on.ctx, on.form(data), data[panel.player]))

    uploaded = panel.player.upload(upload, **{**quick, "inputs": inputs | {panel.player}})
    uploaded.failure(on.quick(show_kept_track), **quick)
    panel.player.clear(on.quick(drop_soundtrack), **quick)
    panel.on_beats.click(on.quick(keyframes_on_beats), **quick)
    panel.snap.click(on.quick(snap_keyframes), **quick)
    panel.fit.click(on.quick(fit_keyframes), **quick)
