"""The published API: /generate, /interpolate, /candidates, /encode_image, /render_project,
/analyze_audio and /frame, for `gradio_client`; and /encode, /render_batch and /server_info, which another instance's remote
backend calls.

/generate, /interpolate, /candidates, /encode_image, /encode and /render_batch are events on hidden
components (so files travel as Gradio files and the parameters carry descriptive labels on the
API page); /render_project and /frame are `gr.api` functions because their project is either JSON
text or a file. Every endpoint renders with the server's model (ctx.model.active) and checks its
input in pipeline.service.
"""

from dataclasses import asdict
from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData

from pipeline import service
from pipeline.bundle import is_bundle
from pipeline.errors import InputError
from pipeline.inbetweens import inbetween_fractions
from pipeline.keyframe_image import IMAGE_FORMATS, MAX_IMAGE_PIXELS
from pipeline.limits import limits
from pipeline.presets import SCHEDULER_NAMES, preset_for
from pipeline.styles import STYLES

from .context import AppContext
from .errors import user_errors
from .gpu import gpu, gpu_for, render_seconds

GENERATE_DOC = """One keyframe image and its conditioning file (text embeddings + seed noise, .safetensors),
rendered with this server's model. The same inputs always give the same image.
Parameters: prompt (what the image shows, required) and negative_prompt (what to avoid), each at most
{max_prompt_chars} characters; style (a style preset), seed (0 or more), steps (1-{max_steps}), guidance
(0-30; <= 1 skips the negative pass), width and height (multiples of 8, 64-{max_side}).
Returns (image PNG, conditioning .safetensors)."""

INTERPOLATE_DOC = """The in-between images of two conditioning files from /generate, in order: frame i of
`frames` is at t = i / (frames + 1). Parameters: start and end (.safetensors files from /generate on this
server, same settings), frames (1-{max_segment_frames}). Returns a gallery of `frames` images."""

CANDIDATES_DOC = """`count` keyframe images of one prompt from seeds seed, seed + 1, ..., rendered in one batch,
each captioned "seed N": pick one and call /generate with its seed to get the same image and its
conditioning. Parameters as /generate's, plus count (1 to {limit}, SDVC_MAX_CANDIDATES)."""

ENCODE_IMAGE_DOC = f"""A keyframe from a picture of your own: the image the model redraws from it and its conditioning
file (the prompt's embeddings, and starting noise found by inverting the picture), in /generate's format,
so /interpolate takes it. Parameters: image (a {", ".join(IMAGE_FORMATS)} file, at least 8 pixels a side, at
most {MAX_IMAGE_PIXELS} pixels; scaled to cover width x height and centre-cropped), then prompt,
negative_prompt, style, steps, guidance, width, height as for /generate. Returns (image PNG, conditioning)."""

RENDER_PROJECT_DOC = """Render a whole project to an mp4 and return it with render stats
(frames_total, rendered, reused, seconds). Frames already in the store are reused.
Parameter: project (a project JSON file or bundle .zip sent with handle_file, or the JSON text itself; at most
{max_project_frames} frames, "model" must be this server's); draft (default false): a quick preview,
rendering drafts (tiny decoder) of the frames that have no final and showing finals where they exist;
fast (default false): fast mode, as the project's "fast": true (deep UNet features reused between steps,
models of 8 steps or more; pixels differ slightly from the exact render)."""

ENCODE_DOC = """A keyframe's conditioning file only (no image): the /generate parameters plus scheduler
(recorded in the file's settings). Used by another instance rendering through this one."""

RENDER_BATCH_DOC = """The images of a batch of frames, in order, rendered in one model call: batch is one
.safetensors file of stacked conditioning tensors with the render settings as metadata (see
pipeline/frame_batch.py). Used by another instance rendering through this one."""

ANALYZE_AUDIO_DOC = """A soundtrack's analysis: {{"duration", "tempo", "beats"}}, the duration and beat times in
seconds and the tempo in beats per minute (librosa). Parameter: audio (a WAV, FLAC, OGG or MP3 file sent
with handle_file, at most {max_audio_seconds} s long, SDVC_MAX_AUDIO_SECONDS). The same file is analysed
once: a second call is instant."""

FRAME_DOC = """One rendered frame of a project, as the PNG in this server's frame store (nothing is rendered).
Parameters: project (a project JSON file sent with handle_file, or the JSON text), index (the frame's
position on the timeline, from 0). An error names the frame when it is not rendered yet."""

SERVER_INFO_DOC = """What this server renders with: app, version, model, render_version, demo_version,
max_batch_frames, max_upload_bytes, frames_rendered (since it started) and remote (the remote it renders
on, its operator's choice, or null when it renders itself)."""


def project_source(project: str | FileData) -> str | Path:
    """/render_project's parameter: JSON text, or the path of the uploaded file (JSON or bundle)."""
    source = Path(project["path"]) if isinstance(project, dict) and "path" in project else project
    if not isinstance(source, Path | str):
        raise InputError(f"project must be a JSON file, a bundle or JSON text, got {type(project).__name__}")
    return source


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

    def interpolate_seconds(start: str | None, end: str | None, frames: int) -> int:
        count = frames if isinstance(frames, int) and 0 < frames <= bounds["max_segment_frames"] else 0
        return render_seconds(count, preset.steps, preset.width, preset.height)

    def project_seconds(project: str | FileData, draft: bool = False, fast: bool = False) -> int:
        """The project's frames (all of them: an upper bound), or the most a call may ask for."""
        try:
            source = project_source(project)
            if isinstance(source, Path) and is_bundle(source):  # not unpacked twice
                return render_seconds(bounds["max_project_frames"], preset.steps, preset.width, preset.height)
            with service.read_project_source(source) as parsed:
                settings = parsed.settings
                return render_seconds(parsed.frame_count, settings.steps, settings.width, settings.height)
        except InputError:
            return render_seconds(0, 1, 64, 64)  # refused at once

    @user_errors
    @gpu_for(interpolate_seconds)
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
    def encode(
        prompt: str,
        negative_prompt: str,
        style: str,
        seed: int,
        steps: int,
        guidance: float,
        width: int,
        height: int,
        scheduler: str,
    ) -> str:
        settings, keyframe = service.check_generate(
            model, prompt, negative_prompt, style, seed, steps, guidance, width, height, scheduler
        )
        return str(service.encode(settings, keyframe, ctx.backend))

    @user_errors
    @gpu
    def render_batch(batch: str | None) -> list[tuple[str, str]]:
        if not batch:
            raise InputError("batch is missing: send a .safetensors frame batch file")
        paths = service.render_batch(Path(batch), model, ctx.backend)
        return [(str(p), f"{i + 1}/{len(paths)}") for i, p in enumerate(paths)]

    @user_errors
    def analyze_audio(audio: FileData | str | None) -> dict:
        """A soundtrack's duration, tempo and beat times."""
        path = audio.get("path") if isinstance(audio, dict) else audio
        if not isinstance(path, str) or not path:
            raise InputError("audio is missing: send an audio file with handle_file")
        return service.analyze_audio(Path(path))

    def server_info() -> dict:
        """The model and versions this server renders with."""
        return service.server_info(model, ctx.backend, ctx.remote)

    @user_errors
    @gpu
    def candidates(
        prompt: str,
        negative_prompt: str,
        style: str,
        seed: int,
        count: int,
        steps: int,
        guidance: float,
        width: int,
        height: int,
    ) -> list[tuple[str, str]]:
        settings, keyframe = service.check_generate(
            model, prompt, negative_prompt, style, seed, steps, guidance, width, height
        )
        found = service.candidates(settings, keyframe, count, ctx.store, ctx.backend)
        return [(str(path), f"seed {s}") for s, path in found]

    @user_errors
    @gpu
    def encode_image(
        image: str | None,
        prompt: str,
        negative_prompt: str,
        style: str,
        steps: int,
        guidance: float,
        width: int,
        height: int,
    ) -> tuple[str, str]:
        if not image:
            raise InputError("image is missing: send a picture file with handle_file")
        settings, keyframe = service.check_generate(
            model, prompt, negative_prompt, style, 0, steps, guidance, width, height
        )
        picture, conditioning = service.encode_image(Path(image), settings, keyframe, ctx.store, ctx.backend)
        return str(picture), str(conditioning)

    @user_errors
    @gpu_for(project_seconds)
    def render_project(project: str | FileData, draft: bool = False, fast: bool = False) -> tuple[FileData, dict]:
        """Render a project (JSON text, file or bundle) to a video; returns the video and render stats.
        draft: a quick preview, drafts (tiny decoder) of the frames that have no final.
        fast: fast mode, deep UNet features reused between steps (feature_reuse.py)."""
        export = service.render_project(
            project_source(project), ctx.store, ctx.backend, model=model, draft=bool(draft), fast=bool(fast)
        )
        return FileData(path=str(export.video), mime_type="video/mp4"), asdict(export.report)

    @user_errors
    def frame(project: str | FileData, index: int) -> FileData:
        """One rendered frame's PNG from the store."""
        source = Path(project["path"]) if isinstance(project, dict) and "path" in project else project
        if not isinstance(source, Path | str):
            raise InputError(f"project must be a JSON file or JSON text, got {type(project).__name__}")
        with service.read_project_source(source) as project:
            path = service.frame_path(project, index, ctx.store)
        return FileData(path=str(path), mime_type="image/png")

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

        scheduler = gr.Dropdown(list(SCHEDULER_NAMES), value=preset.scheduler, label="scheduler: the sampler")
        encode_button = gr.Button("encode")
        batch = gr.File(file_types=[".safetensors"], label="batch: stacked conditioning of the frames to render")
        batch_images = gr.Gallery(label="images: the batch's frames, in order", format="png")
        render_batch_button = gr.Button("render batch")

        count = gr.Number(4, precision=0, label=f"count: how many candidates (1-{limits().max_candidates})")
        candidates_gallery = gr.Gallery(label='candidates: the images, captioned "seed N"', format="png")
        candidates_button = gr.Button("candidates")

        picture = gr.File(label="image: a picture of your own (PNG, JPEG, WebP, GIF, BMP or TIFF)")
        encode_image_button = gr.Button("encode_image")

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
    encode_button.click(
        encode,
        inputs=[prompt, negative_prompt, style, seed, steps, guidance, width, height, scheduler],
        outputs=[conditioning],
        api_name="encode",
        api_description=ENCODE_DOC,
        **gpu_queue,
    )
    render_batch_button.click(
        render_batch,
        inputs=[batch],
        outputs=[batch_images],
        api_name="render_batch",
        api_description=RENDER_BATCH_DOC,
        **gpu_queue,
    )
    candidates_button.click(
        candidates,
        inputs=[prompt, negative_prompt, style, seed, count, steps, guidance, width, height],
        outputs=[candidates_gallery],
        api_name="candidates",
        api_description=CANDIDATES_DOC.format(limit=limits().max_candidates),
        **gpu_queue,
    )
    encode_image_button.click(
        encode_image,
        inputs=[picture, prompt, negative_prompt, style, steps, guidance, width, height],
        outputs=[image, conditioning],
        api_name="encode_image",
        api_description=ENCODE_IMAGE_DOC,
        **gpu_queue,
    )
    gr.api(render_project, api_name="render_project", api_description=RENDER_PROJECT_DOC.format(**bounds), **gpu_queue)
    gr.api(
        analyze_audio, api_name="analyze_audio", api_description=ANALYZE_AUDIO_DOC.format(**bounds), concurrency_limit=2
    )
    gr.api(frame, api_name="frame", api_description=FRAME_DOC, concurrency_limit=None)
    gr.api(server_info, api_name="server_info", api_description=SERVER_INFO_DOC, concurrency_limit=None)
