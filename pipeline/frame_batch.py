"""A batch of frames' conditioning in one .safetensors file: what a remote instance renders in one call.

Each tensor of the frames' conditioning (see conditioning.py) is stacked along the batch axis,
(1, ...) per frame to (B, ...); the metadata holds the render settings, and the render and demo
model versions the sender's frame keys assume: a server of other versions refuses the batch, so
its pixels never land under those keys. `load_batch` treats the file as hostile with the same
checks as `load_conditioning` (size, header, format, settings: safetensors_file.py), checks the
batch size against `Limits.max_batch_frames` and every frame's tensors as a conditioning file's,
and returns each frame as a Conditioning (the batch's settings as metadata).
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

from .conditioning import Conditioning, check_tensors
from .errors import InputError, show
from .frame_recipe import RENDER_VERSION
from .limits import limits
from .presets import DEMO_VERSION
from .project import RenderSettings
from .safetensors_file import read_safetensors, settings_from_metadata, settings_metadata

FORMAT = "sd-video-creator/frame-batch-v1"


def save_batch(settings: RenderSettings, frames: list[dict[str, torch.Tensor]], path: Path) -> Path:
    """Stack the frames' tensors ((1, ...) each) into one file with the settings as metadata."""
    tensors = {name: torch.cat([f[name] for f in frames]).contiguous() for name in frames[0]}  # (B, ...)
    metadata = {**settings_metadata(settings, FORMAT), **_versions()}
    save_file(tensors, str(path), metadata=metadata)
    return path


def load_batch(path: Path, name: str = "batch") -> list[Conditioning]:
    """Each frame of a batch file ((1, ...) tensors, the batch's settings as metadata); InputError naming the problem."""
    # 1. The file: size, header, format, settings; all as for a conditioning file.
    metadata, tensors = read_safetensors(path, name, FORMAT, "a frame batch file")
    settings = settings_from_metadata(metadata, name)
    theirs = {key: metadata.get(key) for key in _versions()}
    if theirs != _versions():
        raise InputError(
            f"{name}: made for render version {show(theirs['render_version'])} and demo model "
            f"{show(theirs['demo_version'])}; this server renders version {RENDER_VERSION} with {DEMO_VERSION}"
        )
    # 2. One batch size for every tensor, within the limit.
    sizes = {key: tensor.shape[0] if tensor.ndim else 0 for key, tensor in tensors.items()}
    if not sizes or len(set(sizes.values())) != 1:
        raise InputError(f"{name}: its tensors must share one batch size, got {show(sizes)}")
    count = next(iter(sizes.values()))
    if count < 1:
        raise InputError(f"{name}: holds no frames")
    limits().check("max_batch_frames", f"{name}: frames in one batch", count)
    # 3. Every frame as a conditioning file's tensors.
    frames = [Conditioning({key: tensor[i : i + 1] for key, tensor in tensors.items()}, metadata) for i in range(count)]
    for i, frame in enumerate(frames):
        check_tensors(frame.tensors, settings, f"{name} frame {i}")
    return frames


def _versions() -> dict[str, str]:
    return {"render_version": str(RENDER_VERSION), "demo_version": DEMO_VERSION}
