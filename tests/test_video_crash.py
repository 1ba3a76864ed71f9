"""A crash while the video is written: no partial video appears, and the next run writes it and cleans up.

The frames are put in the store beforehand (by a fake backend, under the project's real keys),
so the CLI goes straight to writing the video without loading a model. The killed CLI runs
with an encoder that stalls after two frames, so the kill lands mid-write every time.
"""

import json
import signal
import subprocess

import imageio_ffmpeg
import psutil
import pytest
from cli import run_cli, start_cli
from conftest import write_project
from fake_backend import FakeBackend

from pipeline.frame_store import FrameStore
from pipeline.project import load_project
from pipeline.renderer import render_project

STALLING_CLI = """
import sys, time, types
import imageio_ffmpeg
import pipeline.video

class Stalling:
    def __init__(self, writer):
        self.writer, self.sent = writer, 0

    def send(self, frame):
        self.writer.send(frame)
        self.sent += frame is not None
        if self.sent == 2:
            print("writing", flush=True)
            time.sleep(600)

    def close(self):
        self.writer.close()

real = imageio_ffmpeg.write_frames
pipeline.video.imageio_ffmpeg = types.SimpleNamespace(write_frames=lambda *a, **k: Stalling(real(*a, **k)))
from pipeline.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_kill_while_writing_the_video_leaves_no_partial_video_and_the_next_run_writes_it(tmp_path):
    path = write_project(tmp_path / "p.json", [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 5, "prompt": "b"}])
    store = FrameStore(tmp_path / "frames")
    assert render_project(load_project(path), store, FakeBackend()).rendered == 6
    out = tmp_path / "out" / "video.mp4"
    args = ["render", str(path), "--out", str(out), "--cache", str(store.root), "--json"]

    # 1. Kill the CLI while ffmpeg has part of the video.
    cli = start_cli(*args, code=STALLING_CLI, stdout=subprocess.PIPE)
    assert cli.stdout.readline() == "writing\n"
    encoders = psutil.Process(cli.pid).children(recursive=True)
    assert encoders, "ffmpeg should be running"
    cli.send_signal(signal.SIGKILL)
    cli.wait(timeout=60)
    cli.stdout.close()
    psutil.wait_procs(encoders, timeout=60)  # ffmpeg finishes the temporary file on its own
    assert not out.exists()
    assert [p.name.startswith(f".tmp-{cli.pid}-") for p in out.parent.iterdir()] == [True]

    # 2. Run again: the video is written whole, from the stored frames, and the orphan is gone.
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["rendered"], report["reused"], report["video"]) == (0, 6, str(out))
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 6
    assert list(out.parent.iterdir()) == [out]
    assert not list(store.root.glob("*/.tmp-*"))
