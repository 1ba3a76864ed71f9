"""What the studio's buttons do. Each handler takes plain form values, calls pipeline/, and
returns a StudioUpdate saying which parts of the page change (None: left as they are).

Form values: `settings` (dict of form.SETTING_FIELDS), `rows` (list of keyframe dicts),
`session` (the browser's {"id", "project"}), `selected` (segment indices to render).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from pipeline.errors import InputError
from pipeline.export import export_video
from pipeline.model_choice import ModelChoice, check_offered, load_or_demo
from pipeline.presets import preset_for
from pipeline.project import Project, load_project, parse_project
from pipeline.renderer import iter_render
from pipeline.timeline import keyframe_key
from pipeline.workspace import request_dir

from . import form
from .context import AppContext
from .errors import user_errors
from .gpu import gpu
from .timeline_view import TimelineView, build_view


@dataclass(frozen=True)
class StudioUpdate:
    """The parts of the page a handler changes; None leaves a part as it is."""

    view: TimelineView | None = None
    gallery: list[tuple[str, str]] | None = None
    session: dict | None = None
    settings: dict | None = None
    rows: list[dict] | None = None
    status: str | None = None
    video: str | None = None
    downloads: list[str] | None = None
    project_file: str | None = None
    model_status: str | None = None


def model_status(choice: ModelChoice) -> str:
    """The line under the model picker: which model is active, and why when it is not the one asked for."""
    if choice.fell_back:
        return f"⚠️ **Active model: `{choice.active}`.** {choice.notice}"
    return f"✅ Active model: `{choice.active}`"


def _project(settings: dict, rows: list[dict]) -> Project:
    return parse_project(form.project_json(settings, rows))


def _renderable(ctx: AppContext, settings: dict, rows: list[dict]) -> Project:
    """The form's project, refused before anything loads when its model is not one the server offers."""
    project = _project(settings, rows)
    check_offered(project.settings.model, ctx.offered_models)
    return project


def _keyframe_gallery(ctx: AppContext, project: Project) -> list[tuple[str, str]]:
    """Keyframe images already in the store, captioned with frame and prompt."""
    items = []
    for k in project.keyframes:
        key = keyframe_key(project.settings, k)
        if ctx.store.has(key):
            items.append((str(ctx.store.path(key)), f"frame {k.frame} · {k.prompt}"))
    return items


def _settings_of(project: Project) -> dict[str, Any]:
    data = project.to_json()
    return {k: data[k] for k in form.SETTING_FIELDS}


def restore(ctx: AppContext, session: Any) -> StudioUpdate:
    """Page load: the browser's saved project, or the starter project for a new session."""
    sid = form.session_id(session)
    saved = session.get("project") if isinstance(session, dict) else None
    status = "Edit the prompts, then **Generate keyframes**."
    try:
        project = parse_project(saved if saved is not None else form.starter_project(ctx.model.active))
    except InputError as exc:
        project = parse_project(form.starter_project(ctx.model.active))
        status = f"Your saved project could not be restored ({exc}); here is a new one."
    rows = project.to_json()["keyframes"]
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        gallery=_keyframe_gallery(ctx, project),
        session=form.session_value(sid, project.to_json()),
        settings=_settings_of(project),
        rows=rows,
        status=status,
    )


def refresh(ctx: AppContext, settings: dict, rows: list[dict], session: Any, selected: list[int]) -> StudioUpdate:
    """After an edit: redraw the timeline, or say what is wrong without a popup (the user is typing)."""
    sid = form.session_id(session)
    try:
        project = _project(settings, rows)
    except InputError as exc:
        return StudioUpdate(status=f"⚠️ Timeline not updated: {exc}")
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, _keep_selection(session, project, selected)),
        session=form.session_value(sid, project.to_json()),
    )


def _keep_selection(session: Any, project: Project, selected: list[int]) -> list[int] | None:
    """The user's segment choice while the segments stay the same; every segment once they change."""
    saved = session.get("project") if isinstance(session, dict) else None
    before = len(saved.get("keyframes", [])) if isinstance(saved, dict) else -1
    return list(selected) if before == len(project.keyframes) else None


@user_errors
@gpu
def generate_keyframes(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, selected: list[int], progress: gr.Progress
) -> StudioUpdate:
    """Render the keyframes whose inputs changed (the others come from the store)."""
    sid = form.session_id(session)
    project = _renderable(ctx, settings, rows)
    progress((0, len(project.keyframes)), desc="Generating keyframes")
    for step in iter_render(
        project, ctx.store, ctx.backend, batch_size=ctx.batch_size, project_id=sid, keyframes_only=True
    ):
        progress((step.done, max(step.total, 1)), desc="Generating keyframes")
    report = step.report
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, _keep_selection(session, project, selected)),
        gallery=_keyframe_gallery(ctx, project),
        session=form.session_value(sid, project.to_json()),
        status=f"Keyframes: {report.rendered} generated, {report.reused} unchanged ({report.seconds:.1f} s).",
    )


@user_errors
@gpu
def interpolate(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, selected: list[int], progress: gr.Progress
) -> Iterator[StudioUpdate]:
    """Render the missing frames of the selected segments, redrawing the timeline after each batch."""
    sid = form.session_id(session)
    project = _renderable(ctx, settings, rows)
    if not selected:
        raise InputError("no segment is selected: tick at least one segment to interpolate")
    chosen = sorted(set(selected))
    saved = form.session_value(sid, project.to_json())
    for step in iter_render(
        project, ctx.store, ctx.backend, segments=set(chosen), batch_size=ctx.batch_size, project_id=sid
    ):
        progress((step.done, max(step.total, 1)), desc="Interpolating", unit="frames")
        yield StudioUpdate(
            view=build_view(project, ctx.store, sid, chosen),
            session=saved,
            status=f"Interpolating: {step.done} of {step.total} missing frames rendered…",
        )
    report = step.report
    yield StudioUpdate(
        view=build_view(project, ctx.store, sid, chosen),
        gallery=_keyframe_gallery(ctx, project),
        status=f"Interpolated: {report.rendered} frames rendered, {report.reused} reused ({report.seconds:.1f} s).",
    )


@user_errors
@gpu
def create_video(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, make_gif: bool, progress: gr.Progress
) -> StudioUpdate:
    """Render anything still missing, then write the mp4 (and a GIF on request)."""
    sid = form.session_id(session)
    project = _renderable(ctx, settings, rows)
    folder = request_dir()

    def report_progress(done: int, total: int) -> None:
        progress((done, max(total, 1)), desc="Rendering missing frames", unit="frames")

    mp4 = export_video(
        project, ctx.store, ctx.backend, folder / "sd-video.mp4", project_id=sid, progress=report_progress
    )
    downloads = [str(mp4.video)]
    if make_gif:
        downloads.append(str(export_video(project, ctx.store, ctx.backend, folder / "sd-video.gif").video))
    seconds = project.frame_count / project.fps
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        video=str(mp4.video),
        downloads=downloads,
        session=form.session_value(sid, project.to_json()),
        status=f"Video: {project.frame_count} frames at {project.fps} fps ({seconds:.1f} s).",
    )


@user_errors
def save_project(settings: dict, rows: list[dict]) -> StudioUpdate:
    """The project as a JSON file to download."""
    project = _project(settings, rows)
    path = request_dir() / "project.json"
    path.write_text(json.dumps(project.to_json(), indent=2))
    return StudioUpdate(project_file=str(path), status="Project saved: download it below.")


@user_errors
def open_project(ctx: AppContext, path: str | None, session: Any) -> StudioUpdate:
    """An uploaded project file replaces the form; a bad file changes nothing."""
    if not path:
        raise InputError("no project file was uploaded")
    project = load_project(Path(path), f"project file {Path(path).name!r}")
    sid = form.session_id(session)
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        gallery=_keyframe_gallery(ctx, project),
        session=form.session_value(sid, project.to_json()),
        settings=_settings_of(project),
        rows=project.to_json()["keyframes"],
        status=f"Loaded {Path(path).name}: {len(project.keyframes)} keyframes, {project.frame_count} frames.",
    )


@user_errors
def change_model(ctx: AppContext, name: str, settings: dict, progress: gr.Progress) -> StudioUpdate:
    """Load the chosen model once (the demo model when it cannot load) and take its preset's defaults."""
    name = (name or "").strip()
    if not name:
        raise InputError("model is empty: pick one from the list")
    check_offered(name, ctx.offered_models)
    progress(0, desc=f"Loading {name}")
    choice = load_or_demo(name)
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
    return StudioUpdate(settings={**settings, **changed}, model_status=model_status(choice))
