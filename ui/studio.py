"""The studio page: `create_demo(ctx)` builds the Blocks layout and wires every event.

Layout, top to bottom: options (model, size, steps, ...) beside the prompt rows and the
keyframe gallery; the timeline strip, segment selector and table; Interpolate / Create video;
the video and its downloads; project save and load. The prompt rows are a `gr.render` over
`rows_state`: row buttons (dice, move, remove, add) replace the rows, and every event that
needs the rows is attached inside the render, reading all row fields at once (dict inputs).
Each row can show candidates (its prompt from the next seeds, in the Candidates panel, where a
click picks one) and take a picture of the user's own (an image keyframe, with a strength).

Every handler returns a `handlers.StudioUpdate`; `Page.apply` turns it into component values.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from pipeline.interpolation import EASINGS, INTERPOLATIONS
from pipeline.keyframe_image import IMAGE_FORMATS
from pipeline.limits import limits
from pipeline.presets import SCHEDULER_NAMES
from pipeline.project import MAX_FPS
from pipeline.styles import STYLES
from pipeline.workspace import MAX_AGE_S

from . import form, handlers
from .api import publish_api
from .context import AppContext
from .handlers import StudioUpdate
from .timeline_view import TABLE_HEADERS, placeholder_html

INTRO = """# 🎞️ SD Video Creator
Write a prompt per keyframe, **generate** the keyframes, **interpolate** the frames between them,
and **create the video**. Only frames whose inputs changed are ever rendered again."""


@dataclass
class Page:
    """The components handlers read or change (settings by project field name)."""

    settings: dict[str, gr.components.Component]
    session: gr.BrowserState
    rows_state: gr.State
    strip: gr.HTML
    table: gr.Dataframe
    selector: gr.CheckboxGroup
    gallery: gr.Gallery
    status: gr.Markdown
    video: gr.Video
    downloads: gr.File
    make_gif: gr.Checkbox
    project_file: gr.File
    model_status: gr.Markdown
    backend: gr.Radio  # "local" or "remote": where renders run (not part of the project)
    remote: gr.Textbox  # the remote's URL or Space id
    candidates_panel: gr.Accordion
    candidates_title: gr.Markdown
    candidates_gallery: gr.Gallery
    candidates_count: gr.Slider
    picker: gr.State  # what a click on a candidate picks (handlers.CandidatesView.picker)

    @property
    def outputs(self) -> list:
        return [
            *self.settings.values(),
            self.session,
            self.rows_state,
            self.strip,
            self.table,
            self.selector,
            self.gallery,
            self.status,
            self.video,
            self.downloads,
            self.project_file,
            self.model_status,
            self.candidates_panel,
            self.candidates_title,
            self.candidates_gallery,
            self.picker,
        ]

    def apply(self, update: StudioUpdate) -> dict:
        """Component values for the parts an update changes."""
        out: dict = {}
        if update.view is not None:
            out[self.strip] = update.view.html
            out[self.table] = update.view.table
            out[self.selector] = gr.CheckboxGroup(choices=update.view.choices, value=update.view.selected)
        if update.settings is not None:
            out.update({c: update.settings[name] for name, c in self.settings.items()})
        pairs = (
            (update.session, self.session),
            (form.renewed(update.rows) if update.rows is not None else None, self.rows_state),
            (update.gallery, self.gallery),
            (update.status, self.status),
            (update.video, self.video),
            (update.downloads, self.downloads),
            (update.model_status, self.model_status),
        )
        out.update({component: value for value, component in pairs if value is not None})
        if update.project_file is not None:  # hidden until there is a file to download
            out[self.project_file] = gr.File(value=update.project_file, visible=True)
        if update.candidates is not None:
            out[self.candidates_panel] = gr.Accordion(open=True)
            out[self.candidates_title] = update.candidates.title
            out[self.candidates_gallery] = gr.Gallery(
                value=update.candidates.gallery, selected_index=update.candidates.selected
            )
            out[self.picker] = update.candidates.picker
        return out

    def read_settings(self, data: dict) -> dict[str, Any]:
        return {name: form.number(data[c]) for name, c in self.settings.items()}

    def context(self, ctx: AppContext, data: dict) -> AppContext:
        """The app's context rendering where the backend option says."""
        return handlers.backend_context(ctx, data[self.backend], data[self.remote])


def _options(ctx: AppContext) -> tuple[dict[str, gr.components.Component], gr.Markdown, gr.Radio, gr.Textbox]:
    """The basic options column; values are set from the session's project on load."""
    with gr.Group():
        backend = gr.Radio(
            ["local", "remote"],
            value="remote" if ctx.remote else "local",
            label="Backend",
            info="render here, or on another instance of this app (a GPU Space)",
            elem_id="backend",
        )
        remote = gr.Textbox(
            ctx.remote,
            label="Remote",
            placeholder="https://user-space.hf.space or user/space",
            elem_id="remote",
        )
    with gr.Group():
        model = gr.Dropdown(
            list(ctx.offered_models),
            value=ctx.model.active,
            label="Model",
            info="the server's model or a preset (start the app with --model for another)",
            allow_custom_value=True,  # a loaded project's model shows, and is refused when rendered
            elem_id="model",
        )
        model_status = gr.Markdown(handlers.model_status(ctx.model), elem_id="model-status", padding=True)
    width = gr.Slider(64, limits().max_side, step=8, label="Width", elem_id="width")
    height = gr.Slider(64, limits().max_side, step=8, label="Height", elem_id="height")
    steps = gr.Slider(1, limits().max_steps, step=1, label="Steps", elem_id="steps")
    guidance = gr.Slider(0.0, 30.0, step=0.5, label="Guidance", elem_id="guidance")
    fps = gr.Slider(1, MAX_FPS, step=1, value=8, label="Frames per second", elem_id="fps")
    easing = gr.Dropdown(list(EASINGS), value="linear", label="Easing", info="how t travels across a segment")
    with gr.Accordion("Advanced", open=False):
        scheduler = gr.Dropdown(list(SCHEDULER_NAMES), label="Scheduler")
        interpolation = gr.Dropdown(list(INTERPOLATIONS), value="lerp", label="Text embeddings blend")
    settings = {
        "model": model,
        "width": width,
        "height": height,
        "steps": steps,
        "guidance": guidance,
        "scheduler": scheduler,
        "fps": fps,
        "easing": easing,
        "interpolation": interpolation,
    }
    return settings, model_status, backend, remote


def create_demo(ctx: AppContext) -> gr.Blocks:
    """The whole app: the studio page plus the published API endpoints."""
    # Gradio's copies of uploads and outputs go when the request folders do (checked hourly).
    with gr.Blocks(title="SD Video Creator", delete_cache=(3600, MAX_AGE_S)) as demo:
        session = gr.BrowserState(None, storage_key="sd-video-creator-session")
        rows_state = gr.State([])
        gr.Markdown(INTRO, elem_id="intro")
        gr.Markdown(
            f"⚠️ {ctx.model.notice}" if ctx.model.fell_back else "",
            visible=ctx.model.fell_back,
            elem_id="model-notice",
            elem_classes="sdvc-notice",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=260, elem_classes="sdvc-panel"):
                gr.Markdown("### Options")
                settings, model_status, backend, remote = _options(ctx)
            with gr.Column(scale=4, elem_classes="sdvc-panel"):
                gr.Markdown("### Keyframes")
                rows_area = gr.Column(elem_id="keyframe-rows")
                with gr.Row():
                    add_button = gr.Button("➕ Add keyframe", size="md", elem_id="add-row")
                    generate_button = gr.Button("✨ Generate keyframes", variant="primary", elem_id="generate")
                candidates = _candidates_panel()
                gallery = gr.Gallery(
                    label="Keyframes", columns=6, height=220, object_fit="contain", elem_id="keyframe-gallery"
                )
        with gr.Column(elem_classes="sdvc-panel"):
            gr.Markdown("### Timeline")
            strip = gr.HTML(placeholder_html("Loading the timeline…"), elem_id="timeline")
            with gr.Row(equal_height=False):
                selector = gr.CheckboxGroup(
                    label="Segments to interpolate", type="value", elem_id="segments-selector", scale=2
                )
                table = gr.Dataframe(
                    headers=TABLE_HEADERS, label="Segments", interactive=False, elem_id="segments-table", scale=3
                )
            with gr.Row():
                interpolate_button = gr.Button("🎞️ Interpolate", variant="primary", elem_id="interpolate")
                video_button = gr.Button("🎬 Create video", elem_id="create-video")
                make_gif = gr.Checkbox(label="also make a GIF", elem_id="make-gif")
            status = gr.Markdown("", elem_id="status", padding=True)
        with gr.Row(equal_height=False):
            video = gr.Video(label="Video", interactive=False, height=360, loop=True, elem_id="video", scale=2)
            with gr.Column(scale=1):
                downloads = gr.File(
                    label="Downloads", file_count="multiple", interactive=False, height=140, elem_id="downloads"
                )
                gr.Markdown("#### Project")
                with gr.Row():
                    save_button = gr.Button("💾 Save project", elem_id="save-project")
                    load_button = gr.UploadButton(
                        "📂 Load project", file_types=[".json"], type="filepath", elem_id="load-project"
                    )
                project_file = gr.File(label="Project file", interactive=False, visible=False, elem_id="project-file")

        page = Page(
            settings=settings,
            session=session,
            rows_state=rows_state,
            strip=strip,
            table=table,
            selector=selector,
            gallery=gallery,
            status=status,
            video=video,
            downloads=downloads,
            make_gif=make_gif,
            project_file=project_file,
            model_status=model_status,
            backend=backend,
            remote=remote,
            picker=gr.State(None),
            **candidates.components,
        )
        with rows_area:
            _prompt_rows(
                ctx, page, add_button, generate_button, interpolate_button, video_button, save_button, candidates
            )
        _page_events(ctx, page, demo, load_button)
        publish_api(ctx)
    return demo


@dataclass
class CandidatesPanel:
    """The Candidates panel: a row's candidates to click, how many, and buttons for more."""

    panel: gr.Accordion
    title: gr.Markdown
    gallery: gr.Gallery
    count: gr.Slider
    previous: gr.Button
    reroll: gr.Button

    @property
    def components(self) -> dict[str, gr.components.Component]:
        """The Page fields it fills."""
        return {
            "candidates_panel": self.panel,
            "candidates_title": self.title,
            "candidates_gallery": self.gallery,
            "candidates_count": self.count,
        }


def _candidates_panel() -> CandidatesPanel:
    most = limits().max_candidates
    with gr.Accordion("🎴 Candidates", open=False, elem_id="candidates-panel") as panel:
        title = gr.Markdown(
            "Click **🎴 Candidates** on a keyframe row to see its prompt from several seeds at once, "
            "then click the picture you want: its seed goes into the row.",
            elem_id="candidates-title",
        )
        gallery = gr.Gallery(
            show_label=False,
            columns=6,
            fit_columns=False,  # small squares, however few
            height=170,
            allow_preview=False,
            object_fit="contain",
            elem_id="candidates-gallery",
        )
        with gr.Row(equal_height=True):
            count = gr.Slider(
                1, most, value=min(4, most), step=1, label="How many", elem_id="candidates-count", scale=2
            )
            previous = gr.Button("◀ Previous seeds", elem_id="candidates-previous", scale=1)
            reroll = gr.Button("🔄 Re-roll", elem_id="candidates-reroll", scale=1)
    return CandidatesPanel(panel, title, gallery, count, previous, reroll)


def _page_events(ctx: AppContext, page: Page, demo: gr.Blocks, load_button: gr.UploadButton) -> None:
    """Events that do not read the prompt rows: page load, project upload, model and backend change."""
    private = {"api_visibility": "private", "outputs": page.outputs}

    def on_load(saved):
        return page.apply(handlers.restore(ctx, saved))

    def on_open(path, saved):
        return page.apply(handlers.open_project(ctx, path, saved))

    def on_model(data, progress=gr.Progress()):
        where = page.context(ctx, data)
        return page.apply(
            handlers.change_model(where, data[page.settings["model"]], page.read_settings(data), progress)
        )

    def on_backend(data, progress=gr.Progress()):
        return page.apply(handlers.change_backend(page.context(ctx, data), page.read_settings(data), progress))

    demo.load(on_load, inputs=[page.session], show_progress="hidden", **private)
    load_button.upload(on_open, inputs=[load_button, page.session], show_progress_on=[page.status], **private)
    choices = {*page.settings.values(), page.backend, page.remote}
    page.settings["model"].input(
        on_model, inputs=choices, show_progress_on=[page.status], concurrency_id="gpu", **private
    )
    gr.on(
        [page.backend.input, page.remote.submit],
        on_backend,
        inputs=choices,
        show_progress_on=[page.status],
        concurrency_id="gpu",
        **private,
    )


def _prompt_rows(
    ctx: AppContext,
    page: Page,
    add_button: gr.Button,
    generate_button: gr.Button,
    interpolate_button: gr.Button,
    video_button: gr.Button,
    save_button: gr.Button,
    candidates: CandidatesPanel,
) -> None:
    """One row of fields per keyframe, and every event that reads them."""

    @gr.render(inputs=[page.rows_state])
    def prompt_rows(rows: list[dict]):
        if not rows:  # before the page load has restored the session's project
            return
        fields = [_row(i, row, len(rows)) for i, row in enumerate(rows)]
        inputs = {c for f in fields for c in f.values() if not isinstance(c, gr.Button | gr.UploadButton)}
        inputs |= set(page.settings.values()) | {page.session, page.selector, page.make_gif, page.backend, page.remote}
        inputs |= {page.candidates_count, page.picker}

        def read_rows(data: dict) -> list[dict]:
            read = []
            for row, f in zip(rows, fields, strict=True):
                values = {name: form.number(data[f[name]]) for name in form.ROW_FIELDS}
                if row.get("image"):  # the picture is the row's own (set by an upload); its strength is a field
                    values |= {"image": row["image"], "preview": row.get("preview"), "strength": data[f["strength"]]}
                read.append(values)
            return read

        def values(data: dict) -> tuple:
            return page.read_settings(data), read_rows(data), data[page.session], data[page.selector] or []

        def rows_op(op: Callable[[list[dict]], list[dict]]) -> Callable[[dict], dict]:
            return lambda data: {page.rows_state: op(read_rows(data))}

        # 1. Row buttons replace the rows (and so re-render them).
        # Queued (a state output only re-renders from the queue), but never waiting for the GPU.
        quick = {"inputs": inputs, "outputs": [page.rows_state], "api_visibility": "private", "concurrency_limit": None}
        add_button.click(rows_op(lambda rs: [*rs, form.new_row(rs)]), **quick)
        for i, f in enumerate(fields):
            f["dice"].click(rows_op(lambda rs, i=i: form.with_seed(rs, i, form.random_seed())), **quick)
            f["up"].click(rows_op(lambda rs, i=i: form.move_row(rs, i, -1)), **quick)
            f["down"].click(rows_op(lambda rs, i=i: form.move_row(rs, i, 1)), **quick)
            f["remove"].click(rows_op(lambda rs, i=i: form.remove_row(rs, i)), **quick)

        # 2. Any edit redraws the timeline (quietly: no popups while typing).
        def on_edit(data):
            settings, rows_now, saved, selected = values(data)
            return page.apply(handlers.refresh(ctx, settings, rows_now, saved, selected))

        edits = [f[name].blur for f in fields for name in ("frame", "prompt", "negative_prompt", "seed")]
        edits += [f[name].submit for f in fields for name in ("frame", "prompt", "negative_prompt", "seed")]
        edits += [f["style"].input for f in fields] + [f["strength"].release for f in fields if "strength" in f]
        edits += [c.change for c in page.settings.values()] + [page.selector.input]
        gr.on(
            edits,
            on_edit,
            inputs=inputs,
            outputs=page.outputs,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
            trigger_mode="always_last",
        )

        # 3. The actions, one at a time on the GPU.
        def on_generate(data, progress=gr.Progress()):
            return page.apply(handlers.generate_keyframes(page.context(ctx, data), *values(data), progress))

        def on_interpolate(data, progress=gr.Progress()):
            for update in handlers.interpolate(page.context(ctx, data), *values(data), progress):
                yield page.apply(update)

        def on_video(data, progress=gr.Progress()):
            settings, rows_now, saved, _ = values(data)
            where = page.context(ctx, data)
            return page.apply(handlers.create_video(where, settings, rows_now, saved, data[page.make_gif], progress))

        def on_save(data):
            settings, rows_now, saved, _ = values(data)
            return page.apply(handlers.save_project(settings, rows_now, saved))

        action = {
            "inputs": inputs,
            "outputs": page.outputs,
            "api_visibility": "private",
            "show_progress_on": [page.status],
        }
        generate_button.click(on_generate, concurrency_id="gpu", **action)
        interpolate_button.click(on_interpolate, concurrency_id="gpu", **action)
        video_button.click(on_video, concurrency_id="gpu", **action)
        save_button.click(on_save, **action)

        # 4. Candidates: render a row's (one batch, on the GPU), then a click picks one.
        def candidates_of(i: int):
            def on_candidates(data, progress=gr.Progress()):
                settings, rows_now, saved, _ = values(data)
                count = form.number(data[page.candidates_count])
                return page.apply(
                    handlers.make_candidates(page.context(ctx, data), settings, rows_now, saved, i, count, progress)
                )

            return on_candidates

        def more(forward: bool):
            def on_more(data, progress=gr.Progress()):
                settings, rows_now, saved, _ = values(data)
                count = form.number(data[page.candidates_count])
                update = handlers.more_candidates(
                    page.context(ctx, data), settings, rows_now, saved, data[page.picker], count, forward, progress
                )
                return page.apply(update)

            return on_more

        def on_pick(data, event: gr.SelectData):
            return page.apply(handlers.pick_candidate(ctx, *values(data), data[page.picker], event.index))

        for i, f in enumerate(fields):
            f["candidates"].click(candidates_of(i), concurrency_id="gpu", **action)
        candidates.reroll.click(more(True), concurrency_id="gpu", **action)
        candidates.previous.click(more(False), concurrency_id="gpu", **action)
        candidates.gallery.select(on_pick, **action)

        # 5. A picture of the user's own for a row (kept in the session's folder), or none.
        def picture_of(i: int, upload: gr.UploadButton):
            def on_picture(data):
                return page.apply(handlers.set_picture(ctx, *values(data), i, data[upload]))

            return on_picture

        def drop_of(i: int):
            return lambda data: page.apply(handlers.drop_picture(ctx, *values(data), i))

        for i, f in enumerate(fields):
            f["picture"].upload(picture_of(i, f["picture"]), **{**action, "inputs": inputs | {f["picture"]}})
            if "drop_picture" in f:
                f["drop_picture"].click(drop_of(i), **action)


def _row(i: int, row: dict, count: int) -> dict[str, gr.components.Component]:
    """One keyframe's fields and buttons (and its picture, when it has one); elem_ids are kf-<row>-<field>."""
    editable = {"interactive": True}  # rendered fields are outputs of nothing: say they take input
    with gr.Row(equal_height=True, elem_classes="sdvc-row"):
        fields = {
            "frame": gr.Number(
                row["frame"], label="Frame", precision=0, scale=0, min_width=80, elem_id=f"kf-{i}-frame", **editable
            ),
            "prompt": gr.Textbox(
                row["prompt"],
                label=f"Prompt {i + 1}",
                placeholder="what this keyframe shows",
                max_length=limits().max_prompt_chars,
                scale=5,
                elem_id=f"kf-{i}-prompt",
                **editable,
            ),
            "negative_prompt": gr.Textbox(
                row["negative_prompt"],
                label="Negative prompt",
                max_length=limits().max_prompt_chars,
                scale=3,
                elem_id=f"kf-{i}-negative",
                **editable,
            ),
            "style": gr.Dropdown(
                list(STYLES),
                value=row["style"],
                label="Style",
                scale=2,
                min_width=120,
                elem_id=f"kf-{i}-style",
                **editable,
            ),
            "seed": gr.Number(
                row["seed"], label="Seed", precision=0, scale=2, min_width=110, elem_id=f"kf-{i}-seed", **editable
            ),
        }
        with gr.Column(scale=0, min_width=92, elem_classes="sdvc-row-tools"):
            with gr.Row(elem_classes="sdvc-tool-row"):
                fields["dice"] = gr.Button("🎲", size="sm", min_width=40, elem_id=f"kf-{i}-dice")
                fields["remove"] = gr.Button(
                    "✕", size="sm", min_width=40, interactive=count > 1, elem_id=f"kf-{i}-remove"
                )
            with gr.Row(elem_classes="sdvc-tool-row"):
                fields["up"] = gr.Button("↑", size="sm", min_width=40, interactive=i > 0, elem_id=f"kf-{i}-up")
                fields["down"] = gr.Button(
                    "↓", size="sm", min_width=40, interactive=i < count - 1, elem_id=f"kf-{i}-down"
                )
        with gr.Column(scale=0, min_width=128, elem_classes="sdvc-row-tools"):
            fields["candidates"] = gr.Button("🎴 Candidates", size="sm", elem_id=f"kf-{i}-candidates")
            fields["picture"] = gr.UploadButton(
                "🖼️ Picture",
                size="sm",
                type="filepath",
                file_types=[f".{f.lower()}" for f in IMAGE_FORMATS] + [".jpg", ".tif"],
                elem_id=f"kf-{i}-picture",
            )
    if row.get("image"):
        with gr.Row(equal_height=True, elem_classes="sdvc-picture-row"):
            gr.Image(
                row.get("preview"),
                label=f"Picture {i + 1}",
                show_label=False,
                height=72,
                width=96,
                interactive=False,
                buttons=[],
                scale=0,
                min_width=96,
                elem_id=f"kf-{i}-picture-preview",
            )
            fields["strength"] = gr.Slider(
                0.0,
                1.0,
                value=row.get("strength", 1.0),
                step=0.05,
                label=f"Picture strength (keyframe {i + 1}): 1 redraws it, 0 ignores it",
                scale=4,
                elem_id=f"kf-{i}-strength",
                **editable,
            )
            fields["drop_picture"] = gr.Button("✕ Remove picture", size="sm", scale=1, elem_id=f"kf-{i}-drop-picture")
    return fields
