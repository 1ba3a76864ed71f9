"""SD Video Creator's .safetensors files: read as hostile, render settings in their metadata.

Two kinds of file share this format: a keyframe's conditioning (conditioning.py) and a batch of
frames' conditioning that a remote renders (frame_batch.py). Each is a safetensors file (never
pickle) whose string metadata names its `format` and the render settings its tensors were made
for (`settings_metadata`, read back and checked by `settings_from_metadata`). Such files come
from outside (uploads, a remote's answers), so `read_safetensors` refuses what is not a regular
file, what is over `Limits.max_upload_bytes` and a header longer than the file before
safetensors parses anything, then whatever safetensors cannot read and any other format.
"""

import math
import stat
from pathlib import Path

import torch
from safetensors import safe_open

from .errors import InputError
from .limits import limits
from .presets import SCHEDULER_NAMES
from .project import DECODERS, FULL_DECODER, RenderSettings, check_size


def read_safetensors(
    path: Path, name: str, file_format: str, what: str
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) of a hostile .safetensors file of `file_format`; InputError on anything else."""
    try:
        info = Path(path).stat()
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{name}: not a regular file")
    limits().check("max_upload_bytes", f"{name}: the file", info.st_size)
    try:
        _check_header_length(path, info.st_size, name)
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            if metadata.get("format") != file_format:
                raise InputError(f"{name}: not {what} made by SD Video Creator (format {file_format!r} missing)")
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001  (safetensors raises several types for a broken file)
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: not a valid .safetensors file ({reason})") from None
    return metadata, tensors


def _check_header_length(path: Path, size: int, name: str) -> None:
    """A .safetensors file starts with its header's length: refuse one the file cannot hold, unread."""
    with open(path, "rb") as file:
        head = file.read(8)
    length = int.from_bytes(head, "little")
    if len(head) < 8 or length > size - 8:
        raise InputError(f"{name}: not a valid .safetensors file (header of {length} bytes in a file of {size})")


def settings_metadata(settings: RenderSettings, file_format: str) -> dict[str, str]:
    """The format and render settings as safetensors metadata (read back by settings_from_metadata)."""
    metadata = {
        "format": file_format,
        "model": settings.model,
        "width": str(settings.width),
        "height": str(settings.height),
        "steps": str(settings.steps),
        "guidance": repr(settings.guidance),
        "scheduler": settings.scheduler,
    }
    if settings.decoder != FULL_DECODER:  # a draft batch for a remote; files of finals stay as they were
        metadata["decoder"] = settings.decoder
    if settings.fast:  # a fast batch for a remote, likewise
        metadata["fast"] = "true"
    return metadata


def metadata_number(metadata: dict[str, str], name: str, key: str, kind: type, low, high):
    """The number (`kind` int or float) in metadata field `key`, in [low, high]; InputError naming file and field."""
    try:
        value = kind(metadata[key])
    except (KeyError, ValueError):
        raise InputError(f"{name}: metadata field {key!r} is missing or not a number") from None
    if not (low <= value <= high) or (kind is float and not math.isfinite(value)):
        raise InputError(f"{name}: metadata {key} must be between {low} and {high}, got {value}")
    return value


def settings_from_metadata(metadata: dict[str, str], name: str) -> RenderSettings:
    """The render settings a file's metadata holds, checked; InputError names the file and field."""

    def number(key: str, kind, low, high):
        return metadata_number(metadata, name, key, kind, low, high)

    width, height = number("width", int, 64, 10**6), number("height", int, 64, 10**6)
    try:
        check_size(width, height)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    settings = RenderSettings(
        model=metadata.get("model", ""),
        width=width,
        height=height,
        steps=number("steps", int, 1, limits().max_steps),
        guidance=number("guidance", float, 0.0, 30.0),
        scheduler=metadata.get("scheduler", ""),
        decoder=metadata.get("decoder", FULL_DECODER),
        fast=metadata.get("fast") == "true",
    )
    if not settings.model:
        raise InputError(f"{name}: metadata field 'model' is missing")
    if settings.scheduler not in SCHEDULER_NAMES:
        raise InputError(
            f"{name}: metadata scheduler must be one of {', '.join(SCHEDULER_NAMES)}; got {settings.scheduler!r}"
        )
    if metadata.get("fast", "true") != "true":
        raise InputError(f"{name}: metadata fast must be 'true' when present; got {metadata['fast']!r}")
    if settings.decoder not in DECODERS:
        raise InputError(f"{name}: metadata decoder must be one of {', '.join(DECODERS)}; got {settings.decoder!r}")
    return settings
