"""Video writing: frames in order to an mp4 (H.264, yuv420p, plays everywhere) or a GIF.

The mp4 goes through imageio-ffmpeg's bundled ffmpeg (no system ffmpeg needed). Both are
written to a temporary file and renamed into place, so a crash never leaves half a video; the
temporary files such a crash leaves are deleted by the next write into the same folder.
"""

from collections.abc import Iterable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from .errors import InputError
from .frame_store import atomic_write, remove_orphan_temps

FORMATS = (".mp4", ".gif")


def _write_mp4(frames: list[np.ndarray], path: Path, fps: int) -> None:
    height, width = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (width, height),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",  # what browsers and QuickTime play
        quality=8,
        macro_block_size=2,  # yuv420p needs even sides; ours are multiples of 8
        output_params=["-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _write_gif(frames: list[np.ndarray], path: Path, fps: int) -> None:
    first, *rest = (Image.fromarray(f) for f in frames)
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=round(1000 / fps), loop=0)


def write_video(frames: Iterable[np.ndarray], path: Path, fps: int) -> Path:
    """Write (H, W, 3) uint8 frames to path; its suffix (.mp4 or .gif) picks the format."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"video path must end in {' or '.join(FORMATS)}, got {path.name!r}")
    frames = list(frames)
    if not frames:
        raise InputError("there are no frames to put in a video")
    write = _write_gif if path.suffix.lower() == ".gif" else _write_mp4
    remove_orphan_temps(path.parent.glob(f".tmp-*{path.suffix}"))
    atomic_write(path, lambda tmp: write(frames, tmp, fps))
    return path
