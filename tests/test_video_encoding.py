"""The fast path to a video: frames streamed from the store (read ahead in threads) into x264,
with its speed preset and quality as options."""

import imageio_ffmpeg
import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.video import write_video


def _frames(n: int) -> list[np.ndarray]:
    """Frames that differ from each other: a bar moving down a gradient."""
    frames = []
    for i in range(n):
        frame = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (64, 1, 3))
        frame[i * 4 : i * 4 + 4] = 255
        frames.append(frame)
    return frames


def _decoded(path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]


def test_read_many_streams_the_stores_frames_in_order_into_an_mp4(tmp_path):
    store = FrameStore(tmp_path / "frames")
    frames = _frames(12)
    keys = [f"{i:064x}" for i in reversed(range(12))]  # any order of keys, not the files' order
    for key, frame in zip(keys, frames, strict=True):
        store.write(key, frame)

    read = list(store.read_many(keys))
    assert all(np.array_equal(a, b) for a, b in zip(read, frames, strict=True)) and len(read) == 12

    video = write_video(store.read_many(keys), tmp_path / "walk.mp4", fps=8)
    decoded = _decoded(video)
    assert len(decoded) == 12
    # CRF 18 is visually lossless: every frame close to its source, the moving bar where it was.
    for i, (got, want) in enumerate(zip(decoded, frames, strict=True)):
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 4, i
        assert got[i * 4 + 1 : i * 4 + 3, :, :].mean() > 200


def test_slower_preset_makes_a_smaller_file_of_the_same_frames(tmp_path):
    frames = _frames(12)
    fast = write_video(frames, tmp_path / "fast.mp4", fps=8)
    small = write_video(iter(frames), tmp_path / "small.mp4", fps=8, preset="medium", crf=28)
    assert len(_decoded(small)) == len(_decoded(fast)) == 12
    assert small.stat().st_size < fast.stat().st_size


@pytest.mark.parametrize(
    ("options", "message"),
    [({"preset": "warp"}, "preset must be one of ultrafast"), ({"crf": 52}, "crf must be between 0 and 51, got 52")],
)
def test_bad_encoder_options_are_refused_naming_them(tmp_path, options, message):
    with pytest.raises(InputError, match=message):
        write_video(_frames(2), tmp_path / "v.mp4", fps=8, **options)
    assert not (tmp_path / "v.mp4").exists()


def test_no_frames_is_refused(tmp_path):
    with pytest.raises(InputError, match="no frames"):
        write_video(iter([]), tmp_path / "v.mp4", fps=8)
