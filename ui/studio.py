"""The studio: `create_demo(ctx)` builds the page (ui/layout.py), its prompt rows
(ui/prompt_rows.py) and its events (ui/events.py), and publishes the API (ui/api.py).

Every event reads the page into a `form.Form`, calls a handler (ui/handlers.py,
ui/keyframe_choice.py) and shows the StudioUpdate it returns (`Page.apply`).
"""

import gradio as gr

from pipeline.workspace import MAX_AGE_S

from .api import publish_api
from .context import AppContext
from .events import page_events
from .layout import build_page
from .prompt_rows import prompt_rows


def create_demo(ctx: AppContext) -> gr.Blocks:
    """The whole app: the studio page plus the published API endpoints."""
    # Gradio's copies of uploads and outputs go when the request folders do (checked hourly).
    with gr.Blocks(title="SD Video Creator", delete_cache=(3600, MAX_AGE_S)) as demo:
        page = build_page(ctx)
        prompt_rows(ctx, page)
        page_events(ctx, page, demo)
        publish_api(ctx)
    return demo
