"""A render killed with SIGKILL halfway: the next render completes, reuses what was done, and every
stored frame decodes. Temporary files of dead writers are cleaned up."""

import os
import signal
import subprocess
import time

import pytest
from cli import main_json, start_cli, stored_frames
from conftest import PYTHON, write_project
from PIL import Image

from pipeline.frame_store import FrameStore

CRASH_KEYFRAMES = [
    {"frame": 0, "prompt": "sunrise over hills", "seed": 5},
    {"frame": 24, "prompt": "a storm", "seed": 6},
]


@pytest.mark.slow
def test_render_killed_halfway_completes_on_the_next_run(capsys, tmp_path, demo_model_dir):
    project = write_project(tmp_path / "crash.json", CRASH_KEYFRAMES)
    cache, video = tmp_path / "frames", tmp_path / "crash.mp4"
    render = ["render", project, "--out", video, "--cache", cache, "--batch", "4"]

    # 1. Start a render in its own process; kill it once the first frames are in the store.
    process = start_cli(*render)
    try:
        deadline = time.monotonic() + 300
        while not stored_frames(cache) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the render ended before it could be killed"
        assert stored_frames(cache), "no frame reached the store in time"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    survivors = len(stored_frames(cache))
    assert 0 < survivors < 25
    # A write cut short leaves only a temporary file; make sure there is one from the dead process.
    planted = next(iter(stored_frames(cache).values())).parent / f".tmp-{process.pid}-cut.png"
    planted.write_bytes(b"\x89PNG\r\n\x1a\n half a frame")

    # 2. Render again: it completes, reusing every frame the killed run stored.
    report = main_json(capsys, *render)
    assert (report["frames_total"], report["reused"], report["rendered"]) == (25, survivors, 25 - survivors)
    assert video.exists()

    # 3. Every stored frame decodes whole at the project's size, and no temporary file is left.
    frames = stored_frames(cache)
    assert len(frames) == 25
    for path in frames.values():
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            image.load()
            assert (image.size, image.mode) == ((64, 64), "RGB")
    assert list(cache.rglob(".tmp-*")) == []


def test_remove_orphans_keeps_files_of_live_writers(tmp_path):
    store = FrameStore(tmp_path)
    dead = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (tmp_path / "ab").mkdir()
    live_file = tmp_path / "ab" / f".tmp-{os.getpid()}-writing.png"
    dead_file = tmp_path / "ab" / f".tmp-{dead.stdout.strip()}-cut.png"
    for path in (live_file, dead_file):
        path.write_bytes(b"partial")
    assert store.remove_orphans() == 1
    assert live_file.exists() and not dead_file.exists()
