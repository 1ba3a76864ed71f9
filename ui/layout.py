"""The studio page's layout: where each component sits, and its elem_id (tests and DESIGN.md's hooks
rely on them).

Top to bottom: options (model, size, steps, ...; scheduler and where renders run under Advanced)
beside the prompt rows (drawn into `rows_area` by ui/prompt_rows.py; under them the message of a
field that is wrong), the Candidates panel and the keyframe gallery; the timeline strip and its Soundtrack panel, segment
selector and table; Interpolate / Create video; the video and its downloads; project
save and load. Values are set from the session's project when the page loads.
"""

import gradio as gr

from pipeline.interpolation import EASINGS, INTERPOLATIONS
from pipeline.limits import limits
from pipeline.presets import SCHEDULER_NAMES
from pipeline.project import MAX_FPS, PATHS, SPACINGS

from .context import AppContext
from .drafts import draft_controls
from .form import CANDIDATE_COUNT
from .handlers import model_status
from .page import CandidatesPanel, Page
from .soundtrack import soundtrack_panel
from .timeline import timeline_component
from .timeline_view import TABLE_HEADERS

# The settings are outputs of events and inputs only of the rows' render's events: gradio would infer
# them disabled unless told.
EDITABLE = {"interactive": True}

INTRO = """# 🎞️ SD Video Creator
Write a prompt per keyframe, **generate** the keyframes, **interpolate** the frames between them,
and **create the video**. Only frames whose inputs changed are ever rendered again."""


def build_page(ctx: AppContext) -> Page:
    """Every component of the studio, in place (inside the caller's gr.Blocks)."""
    session = gr.BrowserState(None, storage_key="sd-video-creator-session")
    rows_state = gr.State([])
    picker = gr.State(None)
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
            settings, status_line, advanced = _model_options(ctx)
            with advanced:  # where renders run: for those who run a second instance
                backend, remote = _backend_options(ctx)
        with gr.Column(scale=4, elem_classes="sdvc-panel"):
            gr.Markdown("### Keyframes")
            rows_area = gr.Column(elem_id="keyframe-rows")
            field_error = gr.HTML("", elem_id="field-error", padding=False)
            with gr.Row():
                add_button = gr.Button("+ Add keyframe", size="md", elem_id="add-row")
                generate_button = gr.Button("✨ Generate keyframes", variant="primary", elem_id="generate")
            candidates = _candidates_panel()
            gallery = gr.Gallery(
                label="Keyframes", columns=6, height="auto", object_fit="contain", elem_id="keyframe-gallery"
            )
    with gr.Column(elem_classes="sdvc-panel"):
        gr.Markdown("### Timeline")
        strip = timeline_component()
        soundtrack, settings["timing"] = soundtrack_panel()
        with gr.Accordion("Paste a prompt schedule", open=False, elem_id="schedule-panel"):
            schedule = gr.Textbox(
                label="Prompt schedule",
                placeholder='{"0": "a red fox", "48": "a city at night"}',
                info='Deforum / ComfyUI style, one "frame": "prompt" pair a line, with or without braces',
                lines=4,
                elem_id="schedule",
            )
            schedule_button = gr.Button("Use schedule", elem_id="use-schedule")
        with gr.Row(equal_height=False):
            selector = gr.CheckboxGroup(
                label="Segments to interpolate",
                type="value",
                interactive=True,  # its events are in the rows' render: gradio would infer it disabled
                elem_id="segments-selector",
                scale=2,
            )
            table = gr.Dataframe(
                headers=TABLE_HEADERS, label="Segments", interactive=False, elem_id="segments-table", scale=3
            )
        with gr.Row():
            interpolate_button = gr.Button("🎞️ Interpolate", variant="primary", elem_id="interpolate")
            video_button = gr.Button("🎬 Create video", elem_id="create-video")
            make_gif = gr.Checkbox(label="also make a GIF", elem_id="make-gif")
            draft, final_button = draft_controls()
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
                    "📂 Load project", file_types=[".json", ".zip"], type="filepath", elem_id="load-project"
                )
            project_file = gr.File(label="Project file", interactive=False, visible=False, elem_id="project-file")
    return Page(
        settings=settings,
        session=session,
        rows_state=rows_state,
        rows_area=rows_area,
        add_button=add_button,
        generate_button=generate_button,
        candidates=candidates,
        soundtrack=soundtrack,
        picker=picker,
        gallery=gallery,
        field_error=field_error,
        strip=strip,
        schedule=schedule,
        schedule_button=schedule_button,
        selector=selector,
        table=table,
        interpolate_button=interpolate_button,
        video_button=video_button,
        make_gif=make_gif,
        draft=draft,
        final_button=final_button,
        status=status,
        video=video,
        downloads=downloads,
        save_button=save_button,
        load_button=load_button,
        project_file=project_file,
        model_status=status_line,
        backend=backend,
        remote=remote,
    )


def _backend_options(ctx: AppContext) -> tuple[gr.Radio, gr.Textbox]:
    """Where renders run: here, or on another instance of this app; shown only when the operator lets
    visitors choose (--allow-remote-choice), and refused server-side otherwise (AppContext.for_backend)."""
    with gr.Group():
        backend = gr.Radio(
            ["local", "remote"],
            value="remote" if ctx.remote else "local",
            label="Backend",
            info="render here, or on another instance of this app (a GPU Space)",
            visible=ctx.remote_choice,
            elem_id="backend",
        )
        remote = gr.Textbox(
            ctx.remote,
            label="Remote",
            placeholder="https://user-space.hf.space or user/space",
            visible=ctx.remote_choice,
            elem_id="remote",
        )
    return backend, remote


def _model_options(ctx: AppContext) -> tuple[dict[str, gr.components.Component], gr.Markdown, gr.Accordion]:
    """The project's settings, by field name, the line saying which model is active, and the
    Advanced accordion (its last part: the caller adds more to it)."""
    with gr.Group():
        model = gr.Dropdown(
            list(ctx.offered_models),
            value=ctx.model.active,
            label="Model",
            info="the server's model or a preset (start the app with --model for another)",
            allow_custom_value=True,  # a loaded project's model shows, and is refused when rendered
            elem_id="model",
            **EDITABLE,
        )
        status_line = gr.Markdown(model_status(ctx.model), elem_id="model-status", padding=True)
    width = gr.Slider(64, limits().max_side, step=8, label="Width", elem_id="width", **EDITABLE)
    height = gr.Slider(64, limits().max_side, step=8, label="Height", elem_id="height", **EDITABLE)
    # Numbers, not sliders: a slider clamps what is typed without a word; the project's check names the limit.
    steps = gr.Number(label="Steps", info=f"1 to {limits().max_steps}", elem_id="steps", **EDITABLE)
    guidance = gr.Slider(0.0, 30.0, step=0.5, label="Guidance", elem_id="guidance", **EDITABLE)
    fps = gr.Number(8, label="Frames per second", info=f"1 to {MAX_FPS}", elem_id="fps", **EDITABLE)
    easing = gr.Dropdown(
        list(EASINGS),
        value="linear",
        label="Easing",
        info="how t travels across a segment",
        elem_id="easing",
        **EDITABLE,
    )
    with gr.Accordion("Advanced", open=False, elem_id="advanced") as advanced:
        scheduler = gr.Dropdown(list(SCHEDULER_NAMES), label="Scheduler", elem_id="scheduler", **EDITABLE)
        interpolation = gr.Dropdown(
            list(INTERPOLATIONS), value="lerp", label="Text embeddings blend", elem_id="interpolation", **EDITABLE
        )
        spacing = gr.Dropdown(
            list(SPACINGS),
            value="uniform",
            label="Spacing",
            info="even: equal change per frame",
            elem_id="spacing",
            **EDITABLE,
        )
        path = gr.Dropdown(
            list(PATHS), value="straight", label="Path", info="spline: no turn at keyframes", elem_id="path", **EDITABLE
        )
        fast = gr.Checkbox(
            label="Fast (reuse features)", info="8+ steps; pixels differ slightly", elem_id="fast", **EDITABLE
        )
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
        "spacing": spacing,
        "path": path,
        "fast": fast,  # a project field written only when on (pipeline/feature_reuse.py)
    }
    return settings, status_line, advanced


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
                1,
                most,
                value=min(CANDIDATE_COUNT, most),
                step=1,
                label="How many",
                elem_id="candidates-count",
                scale=2,
            )
            previous = gr.Button("◀ Previous seeds", elem_id="candidates-previous", scale=1)
            reroll = gr.Button("🔄 Re-roll", elem_id="candidates-reroll", scale=1)
    return CandidatesPanel(panel, title, gallery, count, previous, reroll)
