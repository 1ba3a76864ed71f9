"""Request folders: one fresh folder per request, folders older than a day pruned, and at start-up
the temporary files of dead processes removed while those of live ones stay."""

import os
import subprocess
import time

from conftest import PYTHON

from pipeline.workspace import MAX_AGE_S, clean_up, request_dir


def aged(folder, age_s: float):
    folder.mkdir(parents=True)
    (folder / "video.mp4").write_bytes(b"a video")
    os.utime(folder, (time.time() - age_s, time.time() - age_s))
    return folder


def dead_pid() -> int:
    child = subprocess.Popen([PYTHON, "-c", "pass"])
    child.wait()
    return child.pid


def test_each_request_gets_a_new_folder_and_old_ones_go(tmp_path):
    old = aged(tmp_path / "req-old", MAX_AGE_S + 60)
    recent = aged(tmp_path / "req-recent", MAX_AGE_S - 60)
    first, second = request_dir(tmp_path), request_dir(tmp_path)
    assert first != second and first.parent == second.parent == tmp_path
    assert list(first.iterdir()) == [] and list(second.iterdir()) == []
    assert not old.exists() and recent.exists()


def test_start_up_removes_what_dead_processes_left(tmp_path):
    old = aged(tmp_path / "req-old", MAX_AGE_S + 60)
    folder = aged(tmp_path / "req-killed", 60)
    dead = folder / f".tmp-{dead_pid()}-abc.mp4"  # a video half-written by a process now gone
    live = folder / f".tmp-{os.getpid()}-def.mp4"  # one being written right now
    for path in (dead, live):
        path.write_bytes(b"half a video")
    assert clean_up(tmp_path) == 2
    assert not old.exists() and not dead.exists()
    assert live.exists() and (folder / "video.mp4").exists()
