"""The app killed (SIGKILL) in the middle of a /render_project, then started again on the same store:
the render completes, reusing what was stored, and nothing half-written survives the restart.

A kill can land while a frame or the video is being written; the temporary files that leaves are
planted too (under the dead server's pid), so the start-up clean-up is checked every time.
"""

import json
import os
import signal
import time

import imageio_ffmpeg
import pytest
from app_server import app_server
from conftest import PYTHON, SESSION_HOME
from gradio_client import Client
from PIL import Image

from pipeline.frame_store import FrameStore
from pipeline.project import parse_project
from pipeline.timeline import plan_timeline

pytestmark = pytest.mark.slow  # it starts, kills and restarts app servers

PROJECT = {
    "model": "demo",
    "width": 64,
    "height": 64,
    "steps": 4,
    "guidance": 0.0,
    "fps": 8,
    "keyframes": [
        {"frame": 0, "prompt": "a render that a crash interrupts", "seed": 41},
        {"frame": 23, "prompt": "and that finishes after a restart", "seed": 42},
    ],
}
STORED_BEFORE_KILL = 6  # frames in the store when the server is killed


def client_of(server) -> Client:
    return Client(server.url, analytics_enabled=False, verbose=False)


def leftovers(store_root, requests) -> list:
    """Temporary files and pins in the store, temporary files in request folders."""
    return [
        *store_root.glob("*/.tmp-*"),
        *(store_root / "pins").glob("*.json"),
        *requests.glob("req-*/.tmp-*"),
    ]


def test_a_render_killed_with_the_server_completes_after_a_restart(demo_model_dir, tmp_path):
    store = FrameStore(tmp_path / "frames")
    requests = SESSION_HOME / "requests"
    keys = [plan.key for plan in plan_timeline(parse_project(PROJECT))]
    server_args = ("--model", "demo", "--cache", str(store.root))
    # 1. A server renders the project; it is killed once some of its frames are stored.
    with app_server(PYTHON, tmp_path / "first.log", *server_args) as first:
        job = client_of(first).submit(project=json.dumps(PROJECT), api_name="/render_project")
        deadline = time.monotonic() + 300
        while sum(map(store.has, keys)) < STORED_BEFORE_KILL:
            assert time.monotonic() < deadline and not job.done(), first.log_tail()
            time.sleep(0.05)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
    dead = first.process.pid
    stored = sum(map(store.has, keys))
    assert STORED_BEFORE_KILL <= stored < len(keys)
    # 2. What a kill during a write leaves (as the dead server's): half a frame, its pin, half a video.
    half_frame = store.root / keys[-1][:2] / f".tmp-{dead}-planted.png"
    half_frame.parent.mkdir(exist_ok=True)
    half_frame.write_bytes(b"\x89PNG\r\n\x1a\n half of a frame")
    (store.root / "pins").mkdir(exist_ok=True)
    (store.root / "pins" / f"{dead}-planted.json").write_text(json.dumps(keys))
    half_video = requests / "req-killed-while-writing" / f".tmp-{dead}-planted.mp4"
    half_video.parent.mkdir(parents=True, exist_ok=True)
    half_video.write_bytes(b"half of a video")
    # 3. Started again: nothing of the dead server's is left, and every stored frame is whole.
    with app_server(PYTHON, tmp_path / "second.log", *server_args) as second:
        assert leftovers(store.root, requests) == []
        for key in keys:
            if store.has(key):
                with Image.open(store.path(key)) as image:
                    image.load()  # raises on a truncated PNG
                    assert image.size == (64, 64)
        # 4. The same render completes, drawing only what the kill left undrawn.
        present = sum(map(store.has, keys))
        video, stats = client_of(second).predict(project=json.dumps(PROJECT), api_name="/render_project")
        assert (stats["frames_total"], stats["reused"], stats["rendered"]) == (len(keys), present, len(keys) - present)
        assert all(map(store.has, keys))
        assert leftovers(store.root, requests) == []
        assert imageio_ffmpeg.count_frames_and_secs(video)[0] == len(keys)
