"""Video writing: frames in order to an mp4 (H.264, yuv420p, plays everywhere) or a GIF.

The mp4 goes through imageio-ffmpeg's bundled ffmpeg (no system ffmpeg needed). Both are
written to a temporary file and renamed into place, so a crash never leaves half a video; the
temporary files such a crash leaves are deleted by the next write into the same folder.
x264's `ultrafast` preset at CRF 18 (visually lossless) keeps mp4 assembly far from a render's
critical path (`python -m pipeline.bench` measures it); slower presets make smaller files.
"""

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from .atomic_write import atomic_write, remove_orphan_temps
from .errors import InputError, check_integer

FORMATS = (".mp4", ".gif")
H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "ultrafast"  # about 5x medium's speed; files about 1.6x larger at the same CRF
DEFAULT_CRF = 18  # x264's "visually lossless"; 0 is lossless, 51 the worst


def _write_mp4(first: np.ndarray, rest: Iterator[np.ndarray], path: Path, fps: int, preset: str, crf: int) -> None:
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
    for frame in itertools.chain([first], rest):  # streamed: reading the next frame overlaps encoding
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _write_gif(frames: list[np.ndarray], path: Path, fps: int) -> None:
    first, *rest = (Image.fromarray(f) for f in frames)
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0)


def write_video(
    frames: Iterable[np.ndarray], path: Path, fps: int, *, preset: str = DEFAULT_PRESET, crf: int = DEFAULT_CRF
) -> Path:
    """Write (H, W, 3) uint8 frames to path; its suffix (.mp4 or .gif) picks the format.

    preset and crf tune the mp4's H.264 encoder (speed against file size, and quality).
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
    else:
        atomic_write(path, lambda tmp: _write_mp4(first, frames, tmp, fps, preset, crf))
    return path
