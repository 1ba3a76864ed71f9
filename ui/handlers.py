"""What the studio's buttons do. Each handler takes plain form values, calls pipeline/, and
returns a StudioUpdate saying which parts of the page change (None: left as they are).

Form values: `settings` (dict of form.SETTING_FIELDS), `rows` (list of keyframe dicts),
`session` (the browser's {"id", "project"}), `selected` (segment indices to render). Handlers
that render get the context of the backend the form chose (`backend_context`).
The session's project is parsed with the session's own folder (pipeline.uploads.session_dir)
as its project folder: its pictures live there, and no path may leave it.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from pipeline import service
from pipeline.candidates import candidate_keyframes, check_count
from pipeline.errors import InputError
from pipeline.export import export_video
from pipeline.model_choice import ModelChoice, check_offered
from pipeline.presets import preset_for
from pipeline.project import Project, load_project, parse_project
from pipeline.renderer import iter_render
from pipeline.timeline import keyframe_key
from pipeline.uploads import keep_image, session_dir
from pipeline.workspace import request_dir

from . import form
from .context import AppContext
from .errors import user_errors
from .gpu import gpu
from .timeline_view import TimelineView, build_view


@dataclass(frozen=True)
class CandidatesView:
    """A row's candidates: the gallery, its title, and what a click on one picks."""

    title: str
    gallery: list[tuple[str, str]]  # (PNG in the store, "seed N")
    picker: dict  # {"row", "seeds", "paths", "title"}: kept server-side (gr.State)
    selected: int | None  # the one in use, if shown


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
    candidates: CandidatesView | None = None


def model_status(choice: ModelChoice) -> str:
    """The line under the model picker: which model is active, and why when it is not the one asked for."""
    if choice.fell_back:
        return f"⚠️ **Active model: `{choice.active}`.** {choice.notice}"
    where = f" on remote `{choice.remote}`" if choice.remote else ""
    return f"✅ Active model: `{choice.active}`{where}"


@user_errors
def backend_context(ctx: AppContext, backend: str, remote: str) -> AppContext:
    """The context rendering where the form's backend option says: "local", or "remote" at `remote`."""
    return ctx.for_backend(backend, remote)


def _project(settings: dict, rows: list[dict], sid: str) -> Project:
    return parse_project(form.project_json(settings, rows), session_dir(sid))


def _rows_of(project: Project) -> list[dict]:
    """The form's rows for a project; a row with a picture also gets its file, for the thumbnail."""
    rows = project.to_json()["keyframes"]
    for row, keyframe in zip(rows, project.keyframes, strict=True):
        if keyframe.image is not None:
            row["preview"] = str(keyframe.image.path)
    return rows


def _renderable(ctx: AppContext, settings: dict, rows: list[dict], sid: str) -> Project:
    """The form's project, refused before anything loads when its model is not one the server offers."""
    project = _project(settings, rows, sid)
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
        project = parse_project(
            saved if saved is not None else form.starter_project(ctx.model.active), session_dir(sid)
        )
    except InputError as exc:
        project = parse_project(form.starter_project(ctx.model.active))
        status = f"Your saved project could not be restored ({exc}); here is a new one."
    rows = _rows_of(project)
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
        project = _project(settings, rows, sid)
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
    project = _renderable(ctx, settings, rows, sid)
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
    project = _renderable(ctx, settings, rows, sid)
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
    project = _renderable(ctx, settings, rows, sid)
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
def save_project(settings: dict, rows: list[dict], session: Any) -> StudioUpdate:
    """The project as a JSON file to download (its pictures stay in the session's folder)."""
    project = _project(settings, rows, form.session_id(session))
    path = request_dir() / "project.json"
    path.write_text(json.dumps(project.to_json(), indent=2))
    return StudioUpdate(project_file=str(path), status="Project saved: download it below.")


@user_errors
def open_project(ctx: AppContext, path: str | None, session: Any) -> StudioUpdate:
    """An uploaded project file replaces the form; a bad file changes nothing."""
    if not path:
        raise InputError("no project file was uploaded")
    sid = form.session_id(session)
    project = load_project(Path(path), session_dir(sid), f"project file {Path(path).name!r}")
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, None),
        gallery=_keyframe_gallery(ctx, project),
        session=form.session_value(sid, project.to_json()),
        settings=_settings_of(project),
        rows=_rows_of(project),
        status=f"Loaded {Path(path).name}: {len(project.keyframes)} keyframes, {project.frame_count} frames.",
    )


@user_errors
def change_model(ctx: AppContext, name: str, settings: dict, progress: gr.Progress) -> StudioUpdate:
    """Load the chosen model once (the demo model when it cannot load) and take its preset's defaults."""
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
    return StudioUpdate(settings={**settings, **changed}, model_status=model_status(choice))


@user_errors
def change_backend(ctx: AppContext, settings: dict, progress: gr.Progress) -> StudioUpdate:
    """Render here or on a remote (ctx says which): a remote's model replaces the form's when it differs."""
    progress(0, desc=f"Connecting to {ctx.remote}" if ctx.remote else f"Loading {settings['model']}")
    choice = ctx.choose_model(None if ctx.remote else settings["model"])
    if ctx.remote and choice.active != settings["model"]:
        return change_model(ctx, choice.active, settings, progress)
    return StudioUpdate(model_status=model_status(choice))


def _edited(
    ctx: AppContext, sid: str, settings: dict, rows: list[dict], session: Any, selected: list[int], status: str
) -> StudioUpdate:
    """The page after a change to the rows that a handler made (not the user typing)."""
    project = _project(settings, rows, sid)
    return StudioUpdate(
        view=build_view(project, ctx.store, sid, _keep_selection(session, project, selected)),
        gallery=_keyframe_gallery(ctx, project),
        session=form.session_value(sid, project.to_json()),
        rows=rows,
        status=status,
    )


def _candidates(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, row: int, count: int, start: int | None, progress
) -> StudioUpdate:
    project = _project(settings, rows, form.session_id(session))
    if not 0 <= row < len(project.keyframes):
        raise InputError(f"keyframe {row + 1} is gone: click 🎴 on a keyframe row to see its candidates")
    keyframe = project.keyframes[row]
    keyframe = replace(keyframe, seed=keyframe.seed if start is None else start)
    check_count(count)
    progress(0, desc="Rendering candidates")
    stored = sum(ctx.store.has(keyframe_key(project.settings, k)) for k in candidate_keyframes(keyframe, count))
    found = service.candidates(project.settings, keyframe, count, ctx.store, ctx.backend)
    prompt = keyframe.prompt if len(keyframe.prompt) <= 60 else keyframe.prompt[:57] + "…"
    picker = {
        "row": row,
        "seeds": [seed for seed, _ in found],
        "paths": [str(path) for _, path in found],
        "title": f"**Keyframe {row + 1}** · {prompt} · seeds {found[0][0]}–{found[-1][0]}: click the one to use",
    }
    status = (
        f"Candidates for keyframe {row + 1}: {len(found) - stored} rendered, {stored} from the store. "
        "Click one to use it."
    )
    return StudioUpdate(candidates=_candidates_view(picker, project.keyframes[row].seed), status=status)


def _candidates_view(picker: dict, in_use: int) -> CandidatesView:
    """The gallery of a picker's candidates, the one with the row's seed marked."""
    seeds = picker["seeds"]
    captions = [f"seed {seed}" + (" ✓" if seed == in_use else "") for seed in seeds]
    selected = seeds.index(in_use) if in_use in seeds else None
    return CandidatesView(picker["title"], list(zip(picker["paths"], captions, strict=True)), picker, selected)


@user_errors
@gpu
def make_candidates(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, row: int, count: int, progress: gr.Progress
) -> StudioUpdate:
    """`count` candidates of a row in one batch, from the row's own seed on (its current pick first)."""
    return _candidates(ctx, settings, rows, session, row, count, None, progress)


@user_errors
@gpu
def more_candidates(
    ctx: AppContext,
    settings: dict,
    rows: list[dict],
    session: Any,
    picker: dict | None,
    count: int,
    forward: bool,
    progress: gr.Progress,
) -> StudioUpdate:
    """Re-roll (the next seeds) or go back (the seeds before, already in the store) for the shown row."""
    if not picker:
        raise InputError("no candidates yet: click 🎴 on a keyframe row first")
    seeds = picker["seeds"]
    start = seeds[-1] + 1 if forward else max(0, seeds[0] - count)
    return _candidates(ctx, settings, rows, session, picker["row"], count, start, progress)


@user_errors
def pick_candidate(
    ctx: AppContext,
    settings: dict,
    rows: list[dict],
    session: Any,
    selected: list[int],
    picker: dict | None,
    index: int,
) -> StudioUpdate:
    """Put the clicked candidate's seed in its row; its frame is in the store already."""
    if not picker or not 0 <= index < len(picker["seeds"]):
        raise InputError("no candidate to pick: click 🎴 on a keyframe row first")
    row, seed = picker["row"], picker["seeds"][index]
    sid = form.session_id(session)
    project = _project(settings, rows, sid)
    shown = Path(picker["paths"][index])
    if (
        row >= len(project.keyframes)
        or ctx.store.path(keyframe_key(project.settings, replace(project.keyframes[row], seed=seed))) != shown
    ):  # the row's prompt or the settings changed since: that picture is not this row's any more
        raise InputError(f"keyframe {row + 1} or the settings changed since these candidates: click 🎴 on it again")
    status = f"Keyframe {row + 1}: candidate {index + 1} picked (seed {seed})."
    update = _edited(ctx, sid, settings, form.with_seed(rows, row, seed), session, selected, status)
    return replace(update, candidates=_candidates_view(picker, seed))


@user_errors
def set_picture(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, selected: list[int], row: int, upload: str | None
) -> StudioUpdate:
    """An uploaded picture becomes row `row`'s image keyframe, kept in the session's folder."""
    if not upload:
        raise InputError(f"keyframe {row + 1} picture: no file was uploaded")
    sid = form.session_id(session)
    picture = keep_image(Path(upload), session_dir(sid), f"keyframe {row + 1} picture")
    strength = rows[row].get("strength", 1.0)
    fields = {"image": picture.source, "strength": strength, "preview": str(picture.path)}
    status = f"Keyframe {row + 1} now redraws your picture: **Generate keyframes** to see it."
    return _edited(ctx, sid, settings, form.with_picture(rows, row, fields), session, selected, status)


@user_errors
def drop_picture(
    ctx: AppContext, settings: dict, rows: list[dict], session: Any, selected: list[int], row: int
) -> StudioUpdate:
    """Row `row` goes back to its prompt and seed alone."""
    status = f"Keyframe {row + 1}: picture removed; its prompt and seed make it again."
    sid = form.session_id(session)
    return _edited(ctx, sid, settings, form.with_picture(rows, row, None), session, selected, status)
