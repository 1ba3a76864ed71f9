"""Resource limits: image size, steps, frames, prompt length, uploads, disk and soundtrack length, for
a public Space.

One frozen `Limits`, read once per process from the environment by `limits()`: each field
`name` is overridden by `SDVC_<NAME>` (`SDVC_MAX_SIDE=768`, `SDVC_STORE_BYTES=10G`). Every
entry (project files, conditioning uploads, the API, the CLI) checks against it, and every
message states the limit and the variable that changes it:

    width must be at most 1024 (SDVC_MAX_SIDE), got 2048
"""

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .errors import InputError, check_integer, show

MIB = 2**20
GIB = 2**30
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": MIB, "g": GIB, "t": 2**40}


@dataclass(frozen=True)
class Limits:
    max_side: int = 1024  # pixels, width and height (SDXL's native size)
    max_steps: int = 50  # denoising steps; turbo models need 1-4, SD 1.5 about 25
    max_segment_frames: int = 240  # in-between frames of one segment (30 s at 8 fps)
    max_project_frames: int = 1440  # frames on one timeline (3 min at 8 fps)
    max_prompt_chars: int = 1000  # per prompt; the text encoder reads only 77 tokens anyway
    max_candidates: int = 8  # images one /candidates call makes
    max_batch_frames: int = 64  # frames one /render_batch call renders (a remote render's batch)
    max_upload_bytes: int = 16 * MIB  # one uploaded file; an SDXL conditioning at 1024 px is 2 MB
    max_project_bytes: int = MIB  # one project file; real ones are a few KB
    store_bytes: int = 2 * GIB  # the frame store on disk; least recently used frames go beyond it
    max_audio_seconds: int = 600  # a project's soundtrack (10 min); its analysis takes about 1 s a minute

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Limits":
        """Defaults, each overridden by SDVC_<FIELD> when set; raises InputError naming a bad one."""
        values = {}
        for field in fields(cls):
            text = environ.get(env_var(field.name), "").strip()
            if text:
                values[field.name] = _positive(env_var(field.name), text, field.name.endswith("_bytes"))
        return cls(**values)

    def check(self, name: str, what: str, value: int) -> None:
        """Raise InputError when value exceeds the limit `name`: '<what> must be at most ...'."""
        limit = getattr(self, name)
        if value > limit:
            number = format_bytes if name.endswith("_bytes") else show
            raise InputError(f"{what} must be at most {number(limit)} ({env_var(name)}), got {number(value)}")


def env_var(name: str) -> str:
    """The environment variable that overrides the limit `name` (a Limits field)."""
    return f"SDVC_{name.upper()}"


def parse_bytes(text: str) -> int:
    """A size in bytes from '1048576', '512M', '2G', '2GiB' (binary units); ValueError otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use bytes or a number with K, M, G or T)")
    return int(match[1]) * _UNITS[match[2].lower()]


def format_bytes(size: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def _positive(variable: str, text: str, is_size: bool) -> int:
    """A limit from its variable's text: a count, or a size with units; InputError naming both."""
    try:
        value = parse_bytes(text) if is_size else int(text)
    except ValueError:
        if is_size:
            raise InputError(f"{variable} must be a size in bytes (e.g. 512M, 2G), got {text!r}") from None
        value = text  # not a number: check_integer says so
    return check_integer(value, variable, low=1)


@functools.cache
def limits() -> Limits:
    """This process's limits, read from the environment on first use."""
    return Limits.from_env(os.environ)
