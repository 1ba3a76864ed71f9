"""Several users of one server at once: each gets exactly their own pictures and video, and while
the model is busy the others wait in the queue, told their place in it.

Four gradio_client clients in threads each /generate a keyframe and /render_project a different
project; the same requests then run one after another in this process on a fresh frame store, and
every image, stored frame and video frame must match pixel for pixel.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np
import pytest
from conftest import SESSION_HOME
from gradio_client import Client
from gradio_client.utils import Status
from pixels import pixels

from pipeline import service
from pipeline.backends import LocalBackend
from pipeline.export import export_video
from pipeline.frame_store import FrameStore
from pipeline.project import parse_project
from pipeline.timeline import plan_timeline

pytestmark = pytest.mark.slow  # every test here talks to a live app server

SETTINGS = {"steps": 4, "guidance": 0.0, "width": 64, "height": 64}
USERS = 4


@dataclass(frozen=True)
class User:
    """One user's requests: a keyframe, then a project starting from it (4 to 7 frames long)."""

    index: int

    @property
    def keyframe(self) -> dict:
        styles = ("none", "watercolor", "anime", "pixel-art")
        return {
            "prompt": f"user {self.index}: a lighthouse in a storm",
            "negative_prompt": "",
            "style": styles[self.index],
            "seed": 100 + self.index,
        }

    @property
    def project(self) -> dict:
        last = {"frame": 3 + self.index, "prompt": f"user {self.index}: a calm sea at dawn", "seed": 200 + self.index}
        return {"model": "demo", **SETTINGS, "fps": 8, "keyframes": [{"frame": 0, **self.keyframe}, last]}


def video_frames(path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    width, height = meta["size"]
    return [np.frombuffer(frame, np.uint8).reshape(height, width, 3) for frame in reader]


def act(url: str, user: User, start: threading.Barrier) -> tuple[str, str, dict]:
    """What one user does: (keyframe image, video, render stats)."""
    client = Client(url, analytics_enabled=False, verbose=False)
    start.wait()  # all four send at once
    image, _ = client.predict(**user.keyframe, **SETTINGS, api_name="/generate")
    video, stats = client.predict(project=json.dumps(user.project), api_name="/render_project")
    return image, video, stats


def test_four_users_at_once_each_get_exactly_their_own_results(demo_server, tmp_path):
    users = [User(i) for i in range(USERS)]
    start = threading.Barrier(USERS)
    with ThreadPoolExecutor(USERS) as pool:
        results = list(pool.map(lambda u: act(demo_server.url, u, start), users))
    # The same requests one after another, in this process, on a fresh store.
    store, backend = FrameStore(tmp_path / "frames"), LocalBackend()
    server_store = FrameStore(SESSION_HOME / "frames")
    for user, (image, video, stats) in zip(users, results, strict=True):
        settings, keyframe = service.check_generate("demo", **user.keyframe, **SETTINGS)
        alone_image, _ = service.generate(settings, keyframe, store, backend, tmp_path)
        assert np.array_equal(pixels(image), pixels(alone_image)), f"user {user.index}'s keyframe"
        project = parse_project(user.project)
        alone = export_video(project, store, backend, tmp_path / f"user-{user.index}.mp4")
        total = project.frame_count
        assert (stats["frames_total"], stats["rendered"], stats["reused"]) == (total, total - 1, 1)
        for plan in plan_timeline(project):  # the server stored exactly these frames
            assert np.array_equal(server_store.read(plan.key), store.read(plan.key)), (user.index, plan.index)
        frames, alone_frames = video_frames(video), video_frames(alone.video)
        assert len(frames) == len(alone_frames) == total
        assert all(np.array_equal(a, b) for a, b in zip(frames, alone_frames, strict=True)), f"user {user.index}"


LONG_RENDER = {
    "model": "demo",
    **SETTINGS,
    "steps": 8,
    "fps": 8,
    "keyframes": [
        {"frame": 0, "prompt": "a slow render begins", "seed": 7},
        {"frame": 31, "prompt": "ends", "seed": 8},
    ],
}  # 32 frames of 8 steps nobody rendered before: keeps the model busy for seconds


def wait_for(condition, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for a job's status")
        time.sleep(0.05)


def test_waiting_users_are_told_their_place_in_the_queue(demo_server):
    busy, second, third = (Client(demo_server.url, analytics_enabled=False, verbose=False) for _ in range(3))
    keyframe = {"negative_prompt": "", "style": "none", "seed": 3, **SETTINGS}
    long_keys = [plan.key for plan in plan_timeline(parse_project(LONG_RENDER))]
    store = FrameStore(SESSION_HOME / "frames")
    for client in (second, third):  # connected already, so that their jobs queue at once
        client.predict(prompt="warming up", **keyframe, api_name="/generate")
    # 1. One user's long render runs.
    running = busy.submit(project=json.dumps(LONG_RENDER), api_name="/render_project")
    wait_for(lambda: running.status().code == Status.PROCESSING)
    # 2. Two more users arrive, one after the other, while it runs: first and second in line.
    waiting = []
    for client, prompt in ((second, "queued second"), (third, "queued third")):
        waiting.append(client.submit(prompt=prompt, **keyframe, api_name="/generate"))
        wait_for(lambda job=waiting[-1]: job.status().code == Status.IN_QUEUE)
    places = [job.status() for job in waiting]
    assert sum(map(store.has, long_keys)) < len(long_keys), "the long render ended before the queue was seen"
    assert [s.rank for s in places] == [0, 1]  # what the studio shows as "queue: 1/2", "queue: 2/2"
    assert places[1].queue_size == 2
    # 3. One at a time: a waiting job seen started means the render had stored all its frames.
    while not running.done():
        started = any(job.status().code == Status.PROCESSING for job in waiting)
        if started:
            assert all(map(store.has, long_keys)), "a queued job ran while the render was still rendering"
        time.sleep(0.1)
    assert running.result()[1]["frames_total"] == len(long_keys) == 32
    assert all(pixels(job.result()[0]).shape == (64, 64, 3) for job in waiting)
