"""A project's soundtrack: the optional `"audio": {"path": "song.mp3", "start": 0.0}` field.

`path` is a file relative to the project file, checked like a keyframe's picture: it must stay
inside the project folder (keyframe_image.resolve_image_path, the one resolver of the files a
project names), be a regular file of at most MAX_AUDIO_BYTES, and decode as audio of at most
SDVC_MAX_AUDIO_SECONDS. `start` is the second of the file at which frame 0 plays. The track is
known by the sha256 of its bytes; its analysis (audio_analysis.py) is cached under it.

Frame keys hash nothing of the track unless the project's `"timing"` is `"audio"`, and then
only through the in-betweens' t (audio_timing.py): swapping the track with even timing
re-renders nothing.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .audio_analysis import AudioAnalysis, analyze_audio, read_audio_file
from .errors import InputError, show
from .keyframe_image import resolve_image_path

AUDIO_FIELDS = {"path", "start"}


@dataclass(frozen=True)
class AudioTrack:
    source: str  # the path as the project file writes it
    start: float  # seconds into the file at which frame 0 plays
    path: Path = field(compare=False)  # the checked file
    analysis: AudioAnalysis = field(compare=False, repr=False)

    @property
    def sha256(self) -> str:
        return self.analysis.sha256

    def to_json(self) -> dict[str, Any]:
        return {"path": self.source, "start": self.start}


def load_audio_track(data: Any, folder: Path | None, where: str = "audio") -> AudioTrack:
    """The project's `audio` field checked, its file read, hashed and analysed (or InputError)."""
    # 1. The field's shape.
    if not isinstance(data, dict):
        raise InputError(f'{where} must be an object like {{"path": "song.mp3", "start": 0.0}}, got {show(data)}')
    extra = sorted(set(data) - AUDIO_FIELDS, key=str)
    if extra:
        raise InputError(f"{where}.{str(extra[0])[:80]} is not a known field (known: path, start)")
    start = data.get("start", 0.0)
    if isinstance(start, bool) or not isinstance(start, int | float) or not start >= 0:
        raise InputError(f"{where}.start must be a number of seconds, 0 or more, got {show(start)}")
    if folder is None:
        raise InputError(f"{where}.path needs the project file's folder; load the project from a file")
    # 2. The file: inside the project folder, not too big, audio, not too long.
    source = data.get("path")
    path = resolve_image_path(folder, source, f"{where}.path")
    name = f"{where}.path ({source})"
    analysis = analyze_audio(read_audio_file(path, name), name)
    # 3. Frame 0 must play some of it.
    if start >= analysis.duration:
        raise InputError(f"{where}.start {start} s is beyond the end of {source!r} ({analysis.duration:.2f} s long)")
    return AudioTrack(source=source, start=float(start), path=path, analysis=analysis)


def load_audio_upload(path: Path, name: str = "audio") -> AudioAnalysis:
    """The analysis of an uploaded audio file (the API's and the CLI's), or InputError naming it."""
    return analyze_audio(read_audio_file(Path(path), name), name)
