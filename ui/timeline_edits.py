"""What the timeline's gestures do: show a frame, play, drag, add or remove a keyframe, paste a
prompt schedule. Each takes the page as a `form.Form` and returns a StudioUpdate (ui/update.py).

What the page sends is unchecked (a script can send anything): frames are checked here, and an
edit is applied only when the edited project parses, so a bad gesture leaves the project as it
was, with a message naming the keyframe or line.
"""

from dataclasses import replace
from typing import Any

from pipeline.errors import InputError, check_integer
from pipeline.project import Project
from pipeline.prompt_schedule import parse_schedule
from pipeline.service import frame_path
from pipeline.timeline import plan_timeline

from .context import AppContext
from .errors import user_errors
from .form import Form, random_seed, remove_row
from .timeline_view import build_view, file_url
from .update import StudioUpdate


def _view(ctx: AppContext, form: Form, project: Project, **extra: Any):
    view = build_view(project, ctx.store, form.sid, form.selection(project))
    return replace(view, payload={**view.payload, **extra}) if extra else view


def edited(ctx: AppContext, form: Form, rows: list[dict], status: str) -> StudioUpdate:
    """The form with these rows, when they make a project (InputError otherwise: nothing changes)."""
    project = replace(form, rows=rows).project()
    return StudioUpdate(
        rows=rows,
        view=build_view(project, ctx.store, form.sid, None),
        session=form.saved(project),
        status=status,
    )


def _row_at(form: Form, frame: Any, what: str) -> int:
    """The index of the row whose keyframe is at `frame`."""
    frame = check_integer(frame, what, 0)
    for i, row in enumerate(form.rows):
        if row.get("frame") == frame:
            return i
    raise InputError(f"{what}: there is no keyframe at frame {frame}")


@user_errors
def show_frame(ctx: AppContext, form: Form, frame: Any) -> StudioUpdate:
    """The preview shows frame `frame` from the store (no render), or says it is not rendered yet."""
    project = form.project()
    frame = check_integer(frame, "frame", 0, project.frame_count - 1)
    try:
        url = file_url(frame_path(project, frame, ctx.store))
    except InputError:  # not rendered: the preview says so
        url = None
    return StudioUpdate(view=_view(ctx, form, project, preview={"frame": frame, "url": url}))


@user_errors
def playlist(ctx: AppContext, form: Form) -> StudioUpdate:
    """Every frame's stored PNG ("" when missing), for the page to play at the project's fps."""
    project = form.project()
    keys = []
    for plan in plan_timeline(project, ctx.store.spacings):
        path = ctx.store.path(plan.key)
        keys.append(str(path.relative_to(ctx.store.root)) if path.exists() else "")
    base = file_url(ctx.store.root) + "/"
    return StudioUpdate(view=_view(ctx, form, project, playlist={"base": base, "keys": keys}))


@user_errors
def move_keyframe(ctx: AppContext, form: Form, source: Any, target: Any) -> StudioUpdate:
    """A dragged keyframe moves to frame `target`, between its neighbours; its two segments go stale."""
    i = _row_at(form, source, "drag")
    target = check_integer(target, "drag target frame", 0)
    rows = form.rows
    if i == 0:
        raise InputError("the keyframe at frame 0 starts the timeline: it cannot move")
    before = rows[i - 1]["frame"]
    if target <= before:
        raise InputError(
            f"keyframe {i + 1} cannot move to frame {target}: keyframe {i} at frame {before} is in the way"
        )
    if i + 1 < len(rows) and target >= rows[i + 1]["frame"]:
        after = rows[i + 1]["frame"]
        raise InputError(
            f"keyframe {i + 1} cannot move to frame {target}: keyframe {i + 2} at frame {after} is in the way"
        )
    moved = [{**row, "frame": target} if n == i else row for n, row in enumerate(rows)]
    return edited(ctx, form, moved, f"Keyframe {i + 1} moved from frame {source} to frame {target}.")


@user_errors
def add_keyframe(ctx: AppContext, form: Form, frame: Any) -> StudioUpdate:
    """A keyframe at `frame` with the prompt of the one before it (to edit) and a new seed."""
    frame = check_integer(frame, "frame", 1)
    rows = form.rows
    if any(row.get("frame") == frame for row in rows):
        raise InputError(f"frame {frame} already has a keyframe")
    at = sum(1 for row in rows if isinstance(row.get("frame"), int) and row["frame"] < frame)
    previous = rows[at - 1]
    row = {**{k: previous[k] for k in ("prompt", "negative_prompt", "style")}, "frame": frame, "seed": random_seed()}
    added = [*rows[:at], row, *rows[at:]]
    return edited(ctx, form, added, f"Keyframe {at + 1} added at frame {frame}: edit its prompt.")


@user_errors
def remove_keyframe(ctx: AppContext, form: Form, frame: Any) -> StudioUpdate:
    """The keyframe at `frame` goes (the one at frame 0 stays: it starts the timeline)."""
    i = _row_at(form, frame, "remove")
    if i == 0:
        raise InputError("the keyframe at frame 0 starts the timeline: it cannot be removed")
    return edited(ctx, form, remove_row(form.rows, i), f"Keyframe {i + 1} (frame {frame}) removed.")


@user_errors
def use_schedule(ctx: AppContext, form: Form) -> StudioUpdate:
    """A pasted prompt schedule becomes the keyframes; each row keeps its style and seed by position."""
    schedule = parse_schedule(form.schedule)
    old = form.rows
    rows = []
    for i, (frame, prompt) in enumerate(schedule):
        kept = old[i] if i < len(old) else {"negative_prompt": "", "style": "none", "seed": random_seed()}
        rows.append({"frame": frame, "prompt": prompt, **{k: kept[k] for k in ("negative_prompt", "style", "seed")}})
    return edited(ctx, form, rows, f"Schedule used: {len(rows)} keyframes.")
