"""What the studio's buttons do to the project: each handler takes the page as a `form.Form`,
calls pipeline/, and returns a StudioUpdate (ui/update.py) saying which parts of the page change.

Handlers that render do so where the form's backend option says (`Form.backend_context`). The
form's project is parsed with the session's own folder (pipeline.uploads.session_dir) as its
project folder: its pictures live there, and no path may leave it. Choosing a keyframe from
candidates or a picture is in ui/keyframe_choice.py.
"""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from pipeline.bundle import is_bundle, keep_files, opened_project, project_files, write_bundle
from pipeline.errors import InputError
from pipeline.export import export_video
from pipeline.model_choice import ModelChoice, check_offered
from pipeline.presets import preset_for
from pipeline.project import Project, load_project, parse_project
from pipeline.renderer import iter_render
from pipeline.timeline import FrameState, plan_timeline
from pipeline.uploads import session_dir
from pipeline.workspace import request_dir

from .context import AppContext
from .drafts import as_final, draft_notice, render_steps
from .errors import field_error_html, user_errors
from .form import Form, checked_session, session_value, settings_of, starter_project
from .gpu import gpu, gpu_for, render_seconds
from .soundtrack import soundtrack_info, soundtrack_view
from .timeline_view import build_view
from .update import StudioUpdate, keyframe_gallery


def model_status(choice: ModelChoice) -> str:
    """The line under the model picker: which model is active, and why when it is not the one asked for."""
    if choice.fell_back:
        return f"⚠️ **Active model: `{choice.active}`.** {choice.notice}"
    where = f" on remote `{choice.remote}`" if choice.remote else ""
    return f"✅ Active model: `{choice.active}`{where}"


def _rows_of(project: Project) -> list[dict]:
    """The form's rows for a project; a row with a picture also gets its file, for the thumbnail."""
    rows = project.to_json()["keyframes"]
    for row, keyframe in zip(rows, project.keyframes, strict=True):
        if keyframe.image is not None:
            row["preview"] = str(keyframe.image.path)
    return rows


def _renderable(ctx: AppContext, form: Form) -> Project:
    """The form's project, refused before anything loads when its model is not one the server offers."""
    project = form.project()
    check_offered(project.settings.model, ctx.offered_models)
    return project


def restore(ctx: AppContext, session: Any) -> StudioUpdate:
    """Page load: the browser's saved project, or the starter project for a new session."""
    session = checked_session(session)
    sid, saved = session["id"], session["project"]
    status = "Edit the prompts, then **Generate keyframes**."
    try:
        project = parse_project(saved if saved is not None else starter_project(ctx.model.active), session_dir(sid))
    except InputError as exc:
        project = parse_project(starter_project(ctx.model.active))
        status = f"Your saved project could not be restored ({exc}); here is a new one."
    rows = _rows_of(project)
    outputs = session.get("outputs") or {}  # the last video made, still on the server
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        gallery=keyframe_gallery(ctx.store, project, sid),
        session=session_value(sid, project.to_json(), outputs),
        settings=settings_of(project),
        rows=rows,
        status=status,
        video=outputs.get("video"),
        downloads=outputs.get("downloads"),
        field_error="",
        soundtrack=soundtrack_view(project),
    )


def refresh(ctx: AppContext, form: Form) -> StudioUpdate:
    """After an edit: redraw the timeline and the gallery's captions, or say what is wrong beside the
    field without a popup (the user is typing); a good edit clears that message."""
    try:
        project = form.project()
    except InputError as exc:
        return StudioUpdate(field_error=field_error_html(str(exc)))
    return StudioUpdate(
        view=build_view(project, ctx.store, form.sid, form.selection(project)),
        gallery=keyframe_gallery(ctx.store, project, form.sid),
        session=form.saved(project),
        field_error="",
        soundtrack_info=soundtrack_info(project),  # says where frame 0 plays, once that is edited
    )


def edit_rows(ctx: AppContext, form: Form, rows: list[dict]) -> StudioUpdate:
    """A row button (add, remove, dice, up/down) replaced the rows: redraw them and the timeline, and
    keep them in the session, as a typed edit does."""
    return replace(refresh(ctx, replace(form, rows=rows)), rows=rows)


@user_errors
@gpu
def generate_keyframes(ctx: AppContext, form: Form, progress: gr.Progress) -> StudioUpdate:
    """Render the keyframes whose inputs changed (the others come from the store)."""
    ctx = form.backend_context(ctx)
    project = _renderable(ctx, form)
    progress((0, len(project.keyframes)), desc="Generating keyframes")
    for step in iter_render(
        project, ctx.store, ctx.backend, batch_size=ctx.batch_size, project_id=form.sid, keyframes_only=True
    ):
        progress((step.done, max(step.total, 1)), desc="Generating keyframes")
    report = step.report
    return StudioUpdate(
        view=build_view(project, ctx.store, form.sid, form.selection(project)),
        gallery=keyframe_gallery(ctx.store, project, form.sid),
        session=form.saved(project),
        status=f"Keyframes: {report.rendered} generated, {report.reused} unchanged ({report.seconds:.1f} s).",
    )


def missing_seconds(ctx: AppContext, form: Form, *args: Any) -> int:
    """GPU seconds for the frames of the form's project that are not in the store (ZeroGPU's duration)."""
    try:
        project = form.project()
    except InputError:  # the handler says what is wrong, in no time
        return render_seconds(0, 1, 64, 64)
    states = ctx.store.states(plan_timeline(project), form.sid)
    missing = sum(state not in (FrameState.RENDERED, FrameState.KEYFRAME) for state in states)
    settings = project.settings
    return render_seconds(missing, settings.steps, settings.width, settings.height)


@user_errors
@gpu_for(missing_seconds)
def interpolate(ctx: AppContext, form: Form, progress: gr.Progress) -> Iterator[StudioUpdate]:
    """Render the missing frames of the selected segments, redrawing the timeline after each batch."""
    ctx = form.backend_context(ctx)
    project = _renderable(ctx, form)
    if not form.selected:
        raise InputError("no segment is selected: tick at least one segment to interpolate")
    chosen = sorted(set(form.selected))
    saved = form.saved(project)
    for step in render_steps(ctx, form, project, set(chosen)):
        progress((step.done, max(step.total, 1)), desc="Interpolating", unit="frames")
        yield StudioUpdate(
            view=build_view(project, ctx.store, form.sid, chosen, rendering=True),
            session=saved,
            status=f"Interpolating: {step.done} of {step.total} missing frames rendered…",
        )
    report = step.report
    yield StudioUpdate(
        view=build_view(project, ctx.store, form.sid, chosen),
        gallery=keyframe_gallery(ctx.store, project, form.sid),
        status=f"Interpolated{' (drafts)' if form.draft else ''}: {report.rendered} frames rendered, "
        f"{report.reused} reused ({report.seconds:.1f} s).{draft_notice(form, project)}{_fast_notice(project)}",
    )


def _fast_notice(project: Project) -> str:
    """Why fast mode, asked for, renders exact (after the status line); "" otherwise."""
    notice = project.settings.fast_notice
    return f" Note: {notice}." if notice else ""


def render_final(ctx: AppContext, form: Form, progress: gr.Progress) -> Iterator[StudioUpdate]:
    """Interpolate the selected segments' finals, whatever the Draft toggle says."""
    yield from interpolate(ctx, as_final(form), progress)


@user_errors
@gpu_for(missing_seconds)
def create_video(ctx: AppContext, form: Form, progress: gr.Progress) -> StudioUpdate:
    """Render anything still missing, then write the mp4 (and a GIF when the form asks for one)."""
    ctx = form.backend_context(ctx)
    project = _renderable(ctx, form)
    folder = request_dir()

    def report_progress(done: int, total: int) -> None:
        progress((done, max(total, 1)), desc="Rendering missing frames", unit="frames")

    mp4 = export_video(
        project,
        ctx.store,
        ctx.backend,
        folder / "sd-video.mp4",
        project_id=form.sid,
        progress=report_progress,
        draft=form.draft,
    )
    downloads = [str(mp4.video)]
    if form.make_gif:
        downloads.append(
            str(export_video(project, ctx.store, ctx.backend, folder / "sd-video.gif", draft=form.draft).video)
        )
    seconds = project.frame_count / project.fps
    return StudioUpdate(
        view=build_view(project, ctx.store, form.sid, None),
        video=str(mp4.video),
        downloads=downloads,
        session=form.saved(project, {"video": str(mp4.video), "downloads": downloads}),
        status=f"Video: {project.frame_count} frames at {project.fps} fps ({seconds:.1f} s).",
    )


@user_errors
def save_project(form: Form) -> StudioUpdate:
    """The project to download: a bundle (.zip) with its pictures and soundtrack when it names any, else its JSON."""
    project = form.project()
    folder = request_dir()
    if files := project_files(project):
        path = write_bundle(project, folder / "project.zip")
        fields = {where[0] for where, _ in files}  # "keyframes" (pictures), "audio"
        carried = " and ".join(
            what for field, what in (("keyframes", "its pictures"), ("audio", "its soundtrack")) if field in fields
        )
        return StudioUpdate(project_file=str(path), status=f"Project saved with {carried}: download the .zip below.")
    path = folder / "project.json"
    path.write_text(json.dumps(project.to_json(), indent=2))
    return StudioUpdate(project_file=str(path), status="Project saved: download it below.")


@user_errors
def open_project(ctx: AppContext, path: str | None, session: Any) -> StudioUpdate:
    """An uploaded project file or bundle replaces the form; a bad file changes nothing.

    A project file's pictures are the session's own; a bundle's are copied into the session's folder."""
    if not path:
        raise InputError("no project file was uploaded")
    session = checked_session(session)
    sid = session["id"]
    name = f"project file {Path(path).name!r}"
    if is_bundle(Path(path)):
        with opened_project(Path(path), name) as bundled:
            project = parse_project(keep_files(bundled, session_dir(sid)), session_dir(sid))
    else:
        project = load_project(Path(path), session_dir(sid), name)
    status = f"Loaded {Path(path).name}: {len(project.keyframes)} keyframes, {project.frame_count} frames."
    model = project.settings.model
    if model not in ctx.offered_models:
        status += f" ⚠️ Its model `{model}` is not available on this server: pick one in Model to render."
    elif model != ctx.model.active:
        status += f" Its model is `{model}`; this server runs `{ctx.model.active}`."
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        gallery=keyframe_gallery(ctx.store, project, sid),
        session=session_value(sid, project.to_json(), session.get("outputs")),
        settings=settings_of(project),
        rows=_rows_of(project),
        status=status,
        field_error="",
        soundtrack=soundtrack_view(project),
    )


@user_errors
def change_model(ctx: AppContext, form: Form, progress: gr.Progress) -> StudioUpdate:
    """Load the form's model once (the demo model when it cannot load) and take its preset's defaults."""
    return _take_model(form.backend_context(ctx), form.settings["model"], form, progress)


@user_errors
def change_backend(ctx: AppContext, form: Form, progress: gr.Progress) -> StudioUpdate:
    """Render here or on a remote (the form says which): a remote's model replaces the form's when it differs."""
    ctx = form.backend_context(ctx)
    model = form.settings["model"]
    progress(0, desc=f"Connecting to {ctx.remote}" if ctx.remote else f"Loading {model}")
    choice = ctx.choose_model(None if ctx.remote else model)
    if ctx.remote and choice.active != model:
        return _take_model(ctx, choice.active, form, progress)
    return StudioUpdate(model_status=model_status(choice))


def _take_model(ctx: AppContext, name: str, form: Form, progress: gr.Progress) -> StudioUpdate:
    """Model `name` where ctx renders, its preset's settings in the form, the timeline on their keys."""
    name = (name or "").strip()
    if not name:
        raise InputError("model is empty: pick one from the list")
    check_offered(name, ctx.offered_models)
    progress(0, desc=f"Connecting to {ctx.remote}" if ctx.remote else f"Loading {name}")
    choice = ctx.choose_model(name)
    if choice.fell_back:
        gr.Warning(choice.notice, title="Model not available")
    preset = preset_for(choice.active)
    changed = {
        "model": choice.active,
        "width": preset.width,
        "height": preset.height,
        "steps": preset.steps,
        "guidance": preset.guidance,
        "scheduler": preset.scheduler,
    }
    settings = {**form.settings, **changed}
    return replace(refresh(ctx, replace(form, settings=settings)), settings=settings, model_status=model_status(choice))
