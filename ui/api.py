"""The published API: /generate, /interpolate and /render_project, for `gradio_client`.

/generate and /interpolate are events on hidden components (so files travel as Gradio files
and the parameters carry descriptive labels on the API page); /render_project is a `gr.api`
function because its one parameter is either JSON text or a file. Every endpoint renders with
the server's model (ctx.model.active) and checks its input in pipeline.service.
"""

from dataclasses import asdict
from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData

from pipeline import service
from pipeline.errors import InputError
from pipeline.inbetweens import inbetween_fractions
from pipeline.limits import limits
from pipeline.presets import preset_for
from pipeline.styles import STYLES

from .context import AppContext
from .errors import user_errors
from .gpu import gpu

GENERATE_DOC = """One keyframe image and its conditioning file (text embeddings + seed noise, .safetensors),
rendered with this server's model. The same inputs always give the same image.
Parameters: prompt (what the image shows, required) and negative_prompt (what to avoid), each at most
{max_prompt_chars} characters; style (a style preset), seed (0 or more), steps (1-{max_steps}), guidance
(0-30; <= 1 skips the negative pass), width and height (multiples of 8, 64-{max_side}).
Returns (image PNG, conditioning .safetensors)."""

INTERPOLATE_DOC = """The in-between images of two conditioning files from /generate, in order: frame i of
`frames` is at t = i / (frames + 1). Parameters: start and end (.safetensors files from /generate on this
server, same settings), frames (1-{max_segment_frames}). Returns a gallery of `frames` images."""

RENDER_PROJECT_DOC = """Render a whole project to an mp4 and return it with render stats
(frames_total, rendered, reused, seconds). Frames already in the store are reused.
Parameter: project (a project JSON file sent with handle_file, or the JSON text itself; at most
{max_project_frames} frames, "model" must be this server's)."""


def publish_api(ctx: AppContext) -> None:
    """Add the endpoints to the Blocks being built (their components are invisible)."""
    model = ctx.model.active
    preset = preset_for(model)  # the defaults a client gets when it leaves a parameter out
    bounds = asdict(limits())  # stated in the docs and labels; pipeline.service enforces them

    @user_errors
    @gpu
    def generate(
        prompt: str,
        negative_prompt: str,
        style: str,
        seed: int,
        steps: int,
        guidance: float,
        width: int,
        height: int,
    ) -> tuple[str, str]:
        settings, keyframe = service.check_generate(
            model, prompt, negative_prompt, style, seed, steps, guidance, width, height
        )
        image, conditioning = service.generate(settings, keyframe, ctx.store, ctx.backend)
        return str(image), str(conditioning)

    @user_errors
    @gpu
    def interpolate(start: str | None, end: str | None, frames: int) -> list[tuple[str, str]]:
        for name, value in (("start", start), ("end", end)):
            if not value:
                raise InputError(f"{name} is missing: send a conditioning file from /generate")
        paths = service.interpolate(Path(start), Path(end), frames, model, ctx.store, ctx.backend)
        return [
            (str(p), f"{i + 1}/{frames} t={t:.4f}")
            for i, (p, t) in enumerate(zip(paths, inbetween_fractions(frames), strict=True))
        ]

    @user_errors
    @gpu
    def render_project(project: str | FileData) -> tuple[FileData, dict]:
        """Render a project (JSON text or file) to a video; returns the video and render stats."""
        source = Path(project["path"]) if isinstance(project, dict) and "path" in project else project
        if not isinstance(source, Path | str):
            raise InputError(f"project must be a JSON file or JSON text, got {type(project).__name__}")
        export = service.render_project(source, ctx.store, ctx.backend, model=model)
        return FileData(path=str(export.video), mime_type="video/mp4"), asdict(export.report)

    gpu_queue = {"concurrency_id": "gpu", "concurrency_limit": 1}
    with gr.Column(visible=False):
        prompt = gr.Textbox(label="prompt: what the keyframe shows")
        negative_prompt = gr.Textbox("", label="negative_prompt: what to keep out of it")
        # Any text: pipeline.service names a style that is not known, with the known ones.
        style = gr.Dropdown(list(STYLES), value="none", allow_custom_value=True, label="style: a style preset")
        seed = gr.Number(0, precision=0, label="seed: the starting noise (0 or more)")
        steps = gr.Number(preset.steps, precision=0, label=f"steps: denoising steps (1-{bounds['max_steps']})")
        guidance = gr.Number(preset.guidance, label="guidance: classifier-free guidance (0-30)")
        width = gr.Number(preset.width, precision=0, label=f"width: pixels, a multiple of 8 (64-{bounds['max_side']})")
        height = gr.Number(
            preset.height, precision=0, label=f"height: pixels, a multiple of 8 (64-{bounds['max_side']})"
        )
        image = gr.Image(type="filepath", format="png", label="image: the keyframe (PNG)")
        conditioning = gr.File(label="conditioning: .safetensors for /interpolate")
        generate_button = gr.Button("generate")

        start = gr.File(file_types=[".safetensors"], label="start: conditioning file of the first keyframe")
        end = gr.File(file_types=[".safetensors"], label="end: conditioning file of the second keyframe")
        frames = gr.Number(5, precision=0, label=f"frames: how many in-betweens (1-{bounds['max_segment_frames']})")
        inbetweens = gr.Gallery(label="frames: the in-between images, in order", format="png")
        interpolate_button = gr.Button("interpolate")

    generate_button.click(
        generate,
        inputs=[prompt, negative_prompt, style, seed, steps, guidance, width, height],
        outputs=[image, conditioning],
        api_name="generate",
        api_description=GENERATE_DOC.format(**bounds),
        **gpu_queue,
    )
    interpolate_button.click(
        interpolate,
        inputs=[start, end, frames],
        outputs=[inbetweens],
        api_name="interpolate",
        api_description=INTERPOLATE_DOC.format(**bounds),
        **gpu_queue,
    )
    gr.api(render_project, api_name="render_project", api_description=RENDER_PROJECT_DOC.format(**bounds), **gpu_queue)
