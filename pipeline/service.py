"""The operations the app publishes as API endpoints, without gradio: each checks its input once.

    generate(...)        one keyframe: its PNG and its conditioning file
    interpolate(...)     in-betweens of two conditioning files, as frame store PNGs in order
    render_project(...)  a whole project (JSON text or file) to a video and its render stats

Every file written goes into a fresh request folder (`workspace.request_dir`); every user
mistake raises InputError naming the parameter and the value.
"""

from pathlib import Path

from .conditioning import check_for_model, check_pair, load_conditioning, save_conditioning
from .errors import InputError
from .export import Export, export_video
from .frame_store import FrameStore
from .inbetweens import check_frame_count, render_inbetweens
from .model_choice import check_offered
from .project import Keyframe, Project, RenderSettings, load_project, loads_project, parse_keyframe, parse_settings
from .renderer import Backend, render_keyframe
from .timeline import keyframe_key
from .workspace import request_dir


def check_generate(
    model: str,
    prompt: str,
    negative_prompt: str,
    style: str,
    seed: int,
    steps: int,
    guidance: float,
    width: int,
    height: int,
) -> tuple[RenderSettings, Keyframe]:
    """The settings and keyframe of a /generate call, or InputError naming the parameter."""
    settings = parse_settings({"model": model, "width": width, "height": height, "steps": steps, "guidance": guidance})
    fields = {"frame": 0, "prompt": prompt, "negative_prompt": negative_prompt, "style": style, "seed": seed}
    try:
        keyframe = parse_keyframe(fields, "keyframe", None)
    except InputError as exc:  # name the API parameter, not a project path
        raise InputError(str(exc).removeprefix("keyframe.")) from None
    return settings, keyframe


def generate(
    settings: RenderSettings, keyframe: Keyframe, store: FrameStore, backend: Backend, out_dir: Path | None = None
) -> tuple[Path, Path]:
    """(PNG path in the store, conditioning file in a request folder) for one checked keyframe."""
    _, conditioning = render_keyframe(settings, keyframe, store, backend)
    folder = out_dir or request_dir()
    saved = save_conditioning(conditioning, folder / f"keyframe-seed{keyframe.seed}.safetensors")
    return store.path(keyframe_key(settings, keyframe)), saved


def interpolate(start: Path, end: Path, frames: int, model: str, store: FrameStore, backend: Backend) -> list[Path]:
    """PNG paths of `frames` in-betweens of two conditioning files, rendered by `model`."""
    from .models import load_model

    # 1. Check the cheap things first: the count, then both files, then that they fit together.
    check_frame_count(frames)
    a = load_conditioning(Path(start), "start")
    b = load_conditioning(Path(end), "end")
    check_pair(a, b)
    # 2. They must come from the model this server runs.
    loaded = load_model(model)
    check_for_model(a, loaded, "start")
    check_for_model(b, loaded, "end")
    # 3. Render what is missing; keys hash the tensors, never the files' metadata.
    return [store.path(key) for key in render_inbetweens(a, b, frames, store, backend)]


def read_project_source(source: str | Path) -> Project:
    """A project from JSON text or from an uploaded file; InputError names the `project` parameter."""
    if isinstance(source, Path):
        return load_project(source, "project")
    return loads_project(source, "project")


def render_project(source: str | Path, store: FrameStore, backend: Backend, *, model: str, fmt: str = ".mp4") -> Export:
    """Render a project (JSON text or file) with the server's `model` to a video in a fresh request folder.

    A project naming any other model is refused before anything loads it: a client must not make
    the server download a model or read a folder of its choosing.
    """
    project = read_project_source(source)
    check_offered(project.settings.model, [model])
    return export_video(project, store, backend, request_dir() / f"video{fmt}")
