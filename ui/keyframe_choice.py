"""Choosing a keyframe in the studio: from candidates, or from a picture of the user's own.

Candidates are a row's prompt from the next seeds, rendered in one batch into the Candidates
panel; a click on one puts its seed into the row (its frame is in the store already). A picture
becomes the row's image keyframe, kept by content in the session's own folder. Each handler
takes the page as a `form.Form` and returns a StudioUpdate, as ui/handlers.py's do.
"""

from dataclasses import replace
from pathlib import Path

import gradio as gr

from pipeline import service
from pipeline.candidates import candidate_keyframes, check_count
from pipeline.errors import InputError
from pipeline.timeline import keyframe_key
from pipeline.uploads import keep_image, session_dir

from .context import AppContext
from .errors import user_errors
from .form import Form, with_picture, with_seed
from .gpu import gpu
from .timeline_view import build_view
from .update import CandidatesView, StudioUpdate, keyframe_gallery


@user_errors
@gpu
def make_candidates(ctx: AppContext, form: Form, row: int, progress: gr.Progress) -> StudioUpdate:
    """The form's count of candidates of a row in one batch, from the row's own seed on (its current pick first)."""
    return _candidates(form.backend_context(ctx), form, row, None, progress)


@user_errors
@gpu
def more_candidates(ctx: AppContext, form: Form, forward: bool, progress: gr.Progress) -> StudioUpdate:
    """Re-roll (the next seeds) or go back (the seeds before, already in the store) for the shown row."""
    ctx = form.backend_context(ctx)
    if not form.picker:
        raise InputError("no candidates yet: click 🎴 on a keyframe row first")
    seeds = form.picker["seeds"]
    start = seeds[-1] + 1 if forward else max(0, seeds[0] - form.candidate_count)
    return _candidates(ctx, form, form.picker["row"], start, progress)


@user_errors
def pick_candidate(ctx: AppContext, form: Form, index: int) -> StudioUpdate:
    """Put the clicked candidate's seed in its row; its frame is in the store already."""
    picker = form.picker
    if not picker or not 0 <= index < len(picker["seeds"]):
        raise InputError("no candidate to pick: click 🎴 on a keyframe row first")
    row, seed = picker["row"], picker["seeds"][index]
    project = form.project()
    shown = Path(picker["paths"][index])
    if (
        row >= len(project.keyframes)
        or ctx.store.path(keyframe_key(project.settings, replace(project.keyframes[row], seed=seed))) != shown
    ):  # the row's prompt or the settings changed since: that picture is not this row's any more
        raise InputError(f"keyframe {row + 1} or the settings changed since these candidates: click 🎴 on it again")
    status = f"Keyframe {row + 1}: candidate {index + 1} picked (seed {seed})."
    update = _edited(ctx, form, with_seed(form.rows, row, seed), status)
    return replace(update, candidates=_candidates_view(picker, seed))


@user_errors
def set_picture(ctx: AppContext, form: Form, row: int, upload: str | None) -> StudioUpdate:
    """An uploaded picture becomes row `row`'s image keyframe, kept in the session's folder."""
    if not upload:
        raise InputError(f"keyframe {row + 1} picture: no file was uploaded")
    picture = keep_image(Path(upload), session_dir(form.sid), f"keyframe {row + 1} picture")
    strength = form.rows[row].get("strength", 1.0)
    fields = {"image": picture.source, "strength": strength, "preview": str(picture.path)}
    status = f"Keyframe {row + 1} now redraws your picture: **Generate keyframes** to see it."
    return _edited(ctx, form, with_picture(form.rows, row, fields), status)


@user_errors
def drop_picture(ctx: AppContext, form: Form, row: int) -> StudioUpdate:
    """Row `row` goes back to its prompt and seed alone."""
    status = f"Keyframe {row + 1}: picture removed; its prompt and seed make it again."
    return _edited(ctx, form, with_picture(form.rows, row, None), status)


def _edited(ctx: AppContext, form: Form, rows: list[dict], status: str) -> StudioUpdate:
    """The page after a change to the rows that a handler made (not the user typing)."""
    edited = replace(form, rows=rows)
    project = edited.project()
    return StudioUpdate(
        view=build_view(project, ctx.store, form.sid, edited.selection(project)),
        gallery=keyframe_gallery(ctx.store, project, form.sid),
        session=edited.saved(project),
        rows=rows,
        status=status,
        field_error="",
    )


def _candidates(ctx: AppContext, form: Form, row: int, start: int | None, progress: gr.Progress) -> StudioUpdate:
    """Candidates of row `row` from seed `start` on (None: the row's own seed), and the panel showing them."""
    project = form.project()
    if not 0 <= row < len(project.keyframes):
        raise InputError(f"keyframe {row + 1} is gone: click 🎴 on a keyframe row to see its candidates")
    keyframe = project.keyframes[row]
    keyframe = replace(keyframe, seed=keyframe.seed if start is None else start)
    count = form.candidate_count
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
