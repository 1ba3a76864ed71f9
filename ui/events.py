"""How a studio event runs a handler: read the page into a Form, call the handler, show its update.

`Events` makes the event functions (Gradio reads their signatures: a `progress` default shows
progress, a generator streams its updates, a `gr.SelectData` hint receives the click).
`page_events` wires the events that do not read the prompt rows; those that do are attached in
the rows' render (ui/prompt_rows.py). Every event is private: the published API is ui/api.py.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gradio as gr

from . import handlers, keyframe_choice
from .context import AppContext
from .form import Form
from .page import Page
from .update import StudioUpdate

Handler = Callable[..., StudioUpdate]  # handler(ctx, form, *args[, progress])


def _no_rows(data: dict) -> list[dict]:
    return []


@dataclass(frozen=True)
class Events:
    """Event functions on a page; `read_rows` reads the prompt rows' fields (in their render)."""

    ctx: AppContext
    page: Page
    read_rows: Callable[[dict], list[dict]] = _no_rows

    def form(self, data: dict) -> Form:
        return self.page.form(data, self.read_rows(data))

    def quick(self, handler: Handler, *args) -> Callable[[dict], dict]:
        """handler(ctx, form, *args), without progress."""
        return lambda data: self.page.apply(handler(self.ctx, self.form(data), *args))

    def busy(self, handler: Handler, *args) -> Callable[..., dict]:
        """handler(ctx, form, *args, progress): progress shown on the status line."""

        def event(data: dict, progress=gr.Progress()) -> dict:
            return self.page.apply(handler(self.ctx, self.form(data), *args, progress))

        return event

    def streaming(self, handler: Callable[..., Iterator[StudioUpdate]]) -> Callable[..., Iterator[dict]]:
        """handler(ctx, form, progress), each of its updates shown as it comes."""

        def event(data: dict, progress=gr.Progress()) -> Iterator[dict]:
            for update in handler(self.ctx, self.form(data), progress):
                yield self.page.apply(update)

        return event

    def save(self, data: dict) -> dict:
        return self.page.apply(handlers.save_project(self.form(data)))

    def pick(self, data: dict, selected: gr.SelectData) -> dict:
        """A click on a candidate picks it."""
        return self.page.apply(keyframe_choice.pick_candidate(self.ctx, self.form(data), selected.index))

    def picture(self, row: int, upload: gr.UploadButton) -> Callable[[dict], dict]:
        """The file chosen with a row's Picture button becomes its picture."""
        return lambda data: self.page.apply(keyframe_choice.set_picture(self.ctx, self.form(data), row, data[upload]))


def page_events(ctx: AppContext, page: Page, demo: gr.Blocks) -> None:
    """Page load and project upload: attached once (neither reads the rows)."""
    private = {"api_visibility": "private", "outputs": page.outputs}
    demo.load(
        lambda saved: page.apply(handlers.restore(ctx, saved)),
        inputs=[page.session],
        show_progress="hidden",
        **private,
    )
    page.load_button.upload(
        lambda path, saved: page.apply(handlers.open_project(ctx, path, saved)),
        inputs=[page.load_button, page.session],
        show_progress_on=[page.status],
        **private,
    )
