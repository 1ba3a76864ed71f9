"""The operations the app publishes as API endpoints, without gradio: each checks its input once.

    generate(...)        one keyframe: its PNG and its conditioning file
    interpolate(...)     in-betweens of two conditioning files, as frame store PNGs in order
    candidates(...)      a keyframe from `count` consecutive seeds, rendered in one batch
    encode_image(...)    a keyframe from an uploaded picture: its PNG and its conditioning file
    render_project(...)  a whole project (JSON text, file or bundle) to a video and its render stats
    encode(...)          one keyframe's conditioning file, no image      } what a remote backend
    render_batch(...)    a batch file of frames' conditioning to PNGs    } calls (see remote.py)
    server_info(...)     the model and versions this server renders with }
    analyze_audio(...)   an uploaded soundtrack's duration, tempo and beat times
    frame_path(...)      one frame's PNG in the store (/frame), or an error naming the frame

Every file written goes into a fresh request folder (`workspace.request_dir`); every user
mistake raises InputError naming the parameter and the value.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from .atomic_write import atomic_write
from .audio_track import load_audio_upload
from .backends import Backend
from .bundle import opened_project
from .candidates import candidate_keyframes, render_candidates
from .conditioning import Conditioning, load_conditioning, save_conditioning
from .conditioning_fit import check_pair
from .errors import InputError, check_integer
from .export import Export, export_video
from .frame_batch import load_batch
from .frame_store import FrameStore
from .inbetweens import check_frame_count, render_inbetweens
from .model_choice import check_offered
from .project import (
    Keyframe,
    Project,
    RenderSettings,
    fast_mode,
    loads_project,
    parse_keyframe,
    parse_settings,
)
from .renderer import render_keyframe
from .server_info import server_info as describe_server
from .timeline import keyframe_key, plan_timeline
from .uploads import check_uploaded_image
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
    scheduler: str | None = None,
) -> tuple[RenderSettings, Keyframe]:
    """The settings and keyframe of a /generate or /encode call, or InputError naming the parameter.

    `scheduler` None (or empty) takes the model preset's."""
    chosen = {"model": model, "width": width, "height": height, "steps": steps, "guidance": guidance}
    settings = parse_settings(chosen | ({"scheduler": scheduler} if scheduler else {}))
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
    # 1. Check the cheap things first: the count, then both files, then that they fit together.
    check_frame_count(frames)
    a = load_conditioning(Path(start), "start")
    b = load_conditioning(Path(end), "end")
    check_pair(a, b)
    # 2. They must come from the model this server runs.
    check_made_with(a, model, backend, "start")
    check_made_with(b, model, backend, "end")
    # 3. Render what is missing; keys hash the tensors, never the files' metadata.
    return [store.path(key) for key in render_inbetweens(a, b, frames, store, backend)]


def candidates(
    settings: RenderSettings, keyframe: Keyframe, count: int, store: FrameStore, backend: Backend
) -> list[tuple[int, Path]]:
    """(seed, PNG path in the store) for seeds keyframe.seed, +1, ...; the missing ones in one batch.

    Each is stored under its own keyframe key, so /generate (or a project) with that seed reads it.
    """
    found = render_candidates(settings, keyframe, count, store, backend)
    keys = [keyframe_key(settings, k) for k in candidate_keyframes(keyframe, count)]
    return [(seed, store.path(key)) for (seed, _), key in zip(found, keys, strict=True)]


def encode_image(
    upload: Path, settings: RenderSettings, keyframe: Keyframe, store: FrameStore, backend: Backend
) -> tuple[Path, Path]:
    """(PNG, conditioning file) of the keyframe that redraws an uploaded picture (strength 1).

    The upload is checked like any hostile picture; the conditioning has /generate's format.
    """
    _, picture = check_uploaded_image(upload, "image")
    return generate(settings, replace(keyframe, image=picture, strength=1.0), store, backend)


@contextlib.contextmanager
def read_project_source(source: str | Path) -> Iterator[Project]:
    """A project from JSON text or from an uploaded file (JSON or bundle); InputError names the
    `project` parameter. A bundle's files last until the block ends."""
    if isinstance(source, Path):
        with opened_project(source, name="project") as project:
            yield project
    else:
        yield loads_project(source, "project")


def render_project(
    source: str | Path,
    store: FrameStore,
    backend: Backend,
    *,
    model: str,
    fmt: str = ".mp4",
    draft: bool = False,
    fast: bool = False,
) -> Export:
    """Render a project (JSON text or file) with the server's `model` to a video in a fresh request folder;
    `draft`: a preview from drafts where there are no finals (draft.py); `fast`: fast mode, as the
    project's `"fast": true` (feature_reuse.py).

    A project naming any other model is refused before anything loads it: a client must not make
    the server download a model or read a folder of its choosing.
    """
    with read_project_source(source) as project:
        check_offered(project.settings.model, [model])
        project = fast_mode(project) if fast else project
        return export_video(project, store, backend, request_dir() / f"video{fmt}", draft=draft)


def check_made_with(conditioning: Conditioning, model: str, backend: Backend, name: str) -> None:
    """A conditioning from outside must come from the server's model, and fit it."""
    if conditioning.settings.model != model:
        raise InputError(f"{name} was made with model {conditioning.settings.model!r}; this server runs {model!r}")
    backend.check_fits(conditioning, name)


def encode(settings: RenderSettings, keyframe: Keyframe, backend: Backend, out_dir: Path | None = None) -> Path:
    """One checked keyframe's conditioning file (no image is rendered), in a request folder."""
    conditioning = backend.encode(settings, keyframe)
    folder = out_dir or request_dir()
    return save_conditioning(conditioning, folder / f"keyframe-seed{keyframe.seed}.safetensors")


def render_batch(batch: Path, model: str, backend: Backend, out_dir: Path | None = None) -> list[Path]:
    """PNGs of every frame of a batch file, in order, rendered by `model` in one backend call."""
    # 1. Check the file as hostile, then that its frames fit the server's model.
    frames = load_batch(Path(batch), "batch")
    check_made_with(frames[0], model, backend, "batch")  # one shape for all: they were stacked
    # 2. Render the whole batch at once: the same pixels as a local render of this batch.
    images = backend.render(frames[0].settings, [f.tensors for f in frames])
    # 3. Write the PNGs into a fresh request folder.
    folder = out_dir or request_dir()
    paths = [folder / f"frame-{i:03d}.png" for i in range(len(images))]
    for path, image in zip(paths, images, strict=True):
        atomic_write(path, lambda tmp, image=image: Image.fromarray(image).save(tmp, format="PNG"))
    return paths


def server_info(model: str, backend: Backend, remote: str = "") -> dict[str, Any]:
    """The model and versions this server renders with (and the remote it renders on), for a client to check."""
    return describe_server(model, backend.rendered, remote)


def analyze_audio(upload: Path) -> dict[str, Any]:
    """{"duration", "tempo", "beats"} (seconds) of an uploaded audio file, checked as hostile."""
    return load_audio_upload(Path(upload), "audio").summary()


def frame_path(project: Project, index: int, store: FrameStore) -> Path:
    """The stored PNG of frame `index` of a project; InputError naming the frame when it is not rendered."""
    plans = plan_timeline(project, store.spacings)
    check_integer(index, "index", 0, len(plans) - 1)
    path = store.path(plans[index].key)
    if not path.exists():
        raise InputError(f"frame {index} is not rendered yet: interpolate (or render the project) first")
    return path
