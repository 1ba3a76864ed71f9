"""The timeline component: one gr.HTML drawn in the page by ui/assets/timeline.js from the compact
payload of ui/timeline_view.py, and the events it triggers.

Everything it needs ships in ui/assets/ (no CDN, no build step). The page triggers `pick_frame` (show a
frame in the preview), `play_frames`, `move_keyframe` (a drag), `add_keyframe` (a double-click) and
`remove_keyframe`;
each is attached in the prompt rows' render (it reads the rows) and runs a handler of
ui/timeline_edits.py. Hooks: `#timeline`, `[data-keyframe]`, `[data-frame]` with `data-state`,
`#frame-preview img`.
"""

from collections.abc import Callable
from pathlib import Path

import gradio as gr

from . import timeline_edits
from .events import Events
from .timeline_view import placeholder_payload

ASSETS = Path(__file__).parent / "assets"
TEMPLATE = '<div class="tlc"></div>'  # never depends on the value: the script draws, Gradio keeps it


def timeline_component() -> gr.HTML:
    """The timeline, empty until the page load draws the session's project."""
    return gr.HTML(
        placeholder_payload(),
        html_template=TEMPLATE,
        css_template=(ASSETS / "timeline.css").read_text(),
        js_on_load=(ASSETS / "timeline.js").read_text(),
        elem_id="timeline",
    )


def timeline_events(on: Events, inputs: set) -> None:
    """The timeline's events (inside the rows' render): each reads the page and changes it."""
    page = on.page
    quick = {
        "inputs": inputs,
        "outputs": page.outputs,
        "api_visibility": "private",
        "concurrency_limit": None,
        "show_progress": "hidden",
    }

    def event(handler: Callable, *names: str) -> Callable[..., dict]:
        """handler(ctx, form, *the event's named values): what the page sent, unchecked."""

        def run(data: dict, evt: gr.EventData) -> dict:
            sent = [getattr(evt, name, None) for name in names]
            return page.apply(handler(on.ctx, on.form(data), *sent))

        return run

    # Custom events of the component, named as the script triggers them (never a Block method's name).
    page.strip.pick_frame(event(timeline_edits.show_frame, "frame"), **quick)
    page.strip.play_frames(event(timeline_edits.playlist), **quick)
    page.strip.move_keyframe(event(timeline_edits.move_keyframe, "from", "to"), **quick)
    page.strip.add_keyframe(event(timeline_edits.add_keyframe, "frame"), **quick)
    page.strip.remove_keyframe(event(timeline_edits.remove_keyframe, "frame"), **quick)
    page.schedule_button.click(on.quick(timeline_edits.use_schedule), **quick)
