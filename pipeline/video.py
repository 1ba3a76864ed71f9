"""Video writing: frames in order to an mp4 (H.264, yuv420p, plays everywhere) or a GIF.

With a soundtrack the mp4 also carries it (AAC) from the track's `start`, cut or padded with
silence to the video's length, so the two end within one AAC packet of each other (a GIF stays
silent): the frames go to a silent temporary mp4 first, then ffmpeg copies its video stream and
encodes the audio beside it (`mux_audio`, one argv list, exit code checked).

The mp4 goes through imageio-ffmpeg's bundled ffmpeg (no system ffmpeg needed). Both are
written to a temporary file and renamed into place, so a crash never leaves half a video; the
temporary files such a crash leaves are deleted by the next write into the same folder.
x264's `ultrafast` preset at CRF 18 (visually lossless) keeps mp4 assembly far from a render's
critical path (`python -m pipeline.bench` measures it); slower presets make smaller files.
"""

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from .atomic_write import atomic_write, remove_orphan_temps
from .audio_track import AudioTrack
from .errors import InputError, check_integer

FORMATS = (".mp4", ".gif")
H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "ultrafast"  # about 5x medium's speed; files about 1.6x larger at the same CRF
DEFAULT_CRF = 18  # x264's "visually lossless"; 0 is lossless, 51 the worst
AAC_BITRATE = "192k"  # transparent for music at 44.1/48 kHz stereo


def _write_mp4(first: np.ndarray, rest: Iterator[np.ndarray], path: Path, fps: int, preset: str, crf: int) -> int:
    """Write the frames; returns how many."""
    height, width = first.shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (width, height),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",  # what browsers and QuickTime play
        quality=None,  # the CRF below decides quality
        macro_block_size=2,  # yuv420p needs even sides; ours are multiples of 8
        output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    count = 0
    for frame in itertools.chain([first], rest):  # streamed: reading the next frame overlaps encoding
        writer.send(np.ascontiguousarray(frame))
        count += 1
    writer.close()
    return count


def mux_audio(silent: Path, audio: AudioTrack, seconds: float, out: Path) -> None:
    """`out`: the silent mp4's video stream (copied) with the track from audio.start as AAC, `seconds` long."""
    argv = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-nostdin", "-v", "error", "-y"),
        *("-i", str(silent)),
        *("-ss", f"{audio.start:.6f}", "-i", str(audio.path)),
        *("-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"),
        *("-c:a", "aac", "-b:a", AAC_BITRATE, "-af", "apad"),  # silence after the track's end...
        *("-t", f"{seconds:.6f}"),  # ...and everything cut at the video's length
        *("-movflags", "+faststart", "-f", "mp4", str(out)),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise InputError(f"audio {audio.source!r}: could not be added to the video (ffmpeg: {detail})")


def _write_mp4_with_audio(
    first: np.ndarray, rest: Iterator[np.ndarray], path: Path, fps: int, preset: str, crf: int, audio: AudioTrack
) -> None:
    # Named like atomic_write's temporaries, in the same folder: a crash's orphan is found.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}-", suffix=".mp4")
    os.close(fd)
    silent = Path(name)
    try:
        count = _write_mp4(first, rest, silent, fps, preset, crf)
        mux_audio(silent, audio, count / fps, path)
    finally:
        silent.unlink(missing_ok=True)


def _write_gif(frames: list[np.ndarray], path: Path, fps: int) -> None:
    first, *rest = (Image.fromarray(f) for f in frames)
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0)


def write_video(
    frames: Iterable[np.ndarray],
    path: Path,
    fps: int,
    *,
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    audio: AudioTrack | None = None,
) -> Path:
    """Write (H, W, 3) uint8 frames to path; its suffix (.mp4 or .gif) picks the format.

    preset and crf tune the mp4's H.264 encoder (speed against file size, and quality); an mp4
    carries `audio` when given (a GIF never does).
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"video path must end in {' or '.join(FORMATS)}, got {path.name!r}")
    if preset not in H264_PRESETS:
        raise InputError(f"preset must be one of {', '.join(H264_PRESETS)}; got {preset!r}")
    check_integer(crf, "crf", 0, 51)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise InputError("there are no frames to put in a video")
    remove_orphan_temps(path.parent.glob(f".tmp-*{path.suffix}"))
    if path.suffix.lower() == ".gif":
        atomic_write(path, lambda tmp: _write_gif([first, *frames], tmp, fps))
    elif audio is None:
        atomic_write(path, lambda tmp: _write_mp4(first, frames, tmp, fps, preset, crf))
    else:
        atomic_write(path, lambda tmp: _write_mp4_with_audio(first, frames, tmp, fps, preset, crf, audio))
    return path
