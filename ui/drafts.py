"""The studio's draft controls: a Draft toggle and a "Render final" button (pipeline/draft.py).

With Draft on, Interpolate renders drafts of the selected segments' frames that have no final
(a tiny decoder, or without one a smaller size and fewer steps) and Create video makes a preview
from them; the timeline shows drafts in their own hue. Render final renders the finals of the
selected segments, whatever the toggle says; a frame with its final shows it (green).
"""

from collections.abc import Iterator
from dataclasses import replace

import gradio as gr

from pipeline.draft import draft_settings, iter_render_drafts
from pipeline.project import Project
from pipeline.renderer import RenderProgress, iter_render

from .context import AppContext
from .form import Form


def draft_controls() -> tuple[gr.Checkbox, gr.Button]:
    """The toggle and the button, in the caller's row."""
    toggle = gr.Checkbox(label="Draft (quick preview)", elem_id="draft")
    final = gr.Button("✅ Render final", elem_id="render-final")
    return toggle, final


def render_steps(ctx: AppContext, form: Form, project: Project, segments: set[int]) -> Iterator[RenderProgress]:
    """The render Interpolate runs: drafts when the toggle is on, else finals."""
    if form.draft:
        return iter_render_drafts(project, ctx.store, ctx.backend, segments=segments, batch_size=ctx.batch_size)
    return iter_render(
        project, ctx.store, ctx.backend, segments=segments, batch_size=ctx.batch_size, project_id=form.sid
    )


def draft_notice(form: Form, project: Project) -> str:
    """Why drafts render smaller, when they do (shown after the status line); "" otherwise."""
    notice = draft_settings(project.settings).notice if form.draft else ""
    return f" Note: {notice}." if notice else ""


def as_final(form: Form) -> Form:
    """The form with the toggle off: what Render final interpolates with."""
    return replace(form, draft=False)
