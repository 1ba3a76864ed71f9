"""The issue's story through the command line: render, render again, edit a keyframe, undo, edit another.

The first renders run `python -m pipeline` in a fresh process, as a user would; the later steps
call the same `main` in this process, where the model stays loaded. Each step checks what the
command reports, what `status` says before the render, and which frames appear in the store.
"""

import json

import imageio_ffmpeg
import numpy as np
import pytest
from cli import cli_json, main_json, stored_frames
from conftest import write_project
from PIL import Image
from pixels import pixels


def frame_states(status: dict) -> list[str]:
    return [frame["state"] for frame in status["frames"]]


def segment_rows(status: dict) -> list[tuple[int, int, int, int, str]]:
    return [(s["first"], s["last"], s["rendered"], s["total"], s["state"]) for s in status["segments"]]


def decode_mp4(path) -> tuple[dict, list[np.ndarray]]:
    """The stream info imageio-ffmpeg reports, and every decoded (H, W, 3) frame."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
    return meta, frames


@pytest.mark.slow
def test_render_edit_and_undo_render_only_what_changed(capsys, tmp_path, demo_model_dir, three_keyframes):
    project = write_project(tmp_path / "story.json", three_keyframes)
    cache, video = tmp_path / "frames", tmp_path / "story.mp4"
    render = ("render", project, "--out", video, "--cache", cache)
    status = ("status", project, "--cache", cache)

    # 1. Nothing rendered yet: every in-between is missing.
    before = main_json(capsys, *status)
    assert before["frames_total"] == 20
    assert frame_states(before) == ["missing"] * 20

    # 2. The first render renders all 20 frames and writes a 20-frame H.264 yuv420p mp4.
    report = cli_json(*render)
    assert {k: report[k] for k in ("frames_total", "rendered", "reused", "video")} == {
        "frames_total": 20,
        "rendered": 20,
        "reused": 0,
        "video": str(video),
    }
    assert report["seconds"] >= 0
    meta, frames = decode_mp4(video)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (64, 64)
    assert len(frames) == 20
    assert imageio_ffmpeg.count_frames_and_secs(str(video))[0] == 20
    first = main_json(capsys, *status)
    assert frame_states(first) == ["keyframe"] + ["rendered"] * 6 + ["keyframe"] + ["rendered"] * 11 + ["keyframe"]
    assert segment_rows(first) == [(0, 7, 8, 8, "rendered"), (7, 19, 13, 13, "rendered")]
    store = {f["index"]: pixels(stored_frames(cache)[f["key"]]) for f in first["frames"]}
    # The video holds the store's frames in timeline order (H.264 is lossy: nearest, not equal).
    for index, frame in enumerate(frames):
        errors = [np.abs(frame.astype(int) - store[i]).mean() for i in range(20)]
        assert int(np.argmin(errors)) == index

    # 3. Rendering again renders nothing.
    assert cli_json(*render)["rendered"] == 0

    # 4. A new prompt on the keyframe at 7: status shows frames 1-18 stale, the render redoes exactly those.
    edited = json.loads(project.read_text())
    edited["keyframes"][1]["prompt"] = "a city at dawn"
    project.write_text(json.dumps(edited))
    stale = main_json(capsys, *status)
    assert frame_states(stale) == ["keyframe"] + ["stale"] * 18 + ["keyframe"]
    assert (stale["rendered"], stale["stale"], stale["missing"]) == (2, 18, 0)
    assert segment_rows(stale) == [(0, 7, 1, 8, "stale"), (7, 19, 1, 13, "stale")]
    keys_before = set(stored_frames(cache))
    report = main_json(capsys, *render)
    assert (report["rendered"], report["reused"]) == (18, 2)
    new_keys = set(stored_frames(cache)) - keys_before
    assert new_keys == {stale["frames"][i]["key"] for i in range(1, 19)}
    assert frame_states(main_json(capsys, *status)) == frame_states(first)

    # 5. Undoing the edit renders nothing: the old frames are still in the store.
    edited["keyframes"][1]["prompt"] = "a city at night"
    project.write_text(json.dumps(edited))
    undone = main_json(capsys, *status)
    assert frame_states(undone) == frame_states(first)
    assert [f["key"] for f in undone["frames"]] == [f["key"] for f in first["frames"]]
    assert main_json(capsys, *render)["rendered"] == 0

    # 6. A new seed on the keyframe at 19 redoes its segment only: frames 8-19.
    edited["keyframes"][2]["seed"] = 4
    project.write_text(json.dumps(edited))
    reseeded = main_json(capsys, *status)
    assert frame_states(reseeded) == frame_states(first)[:8] + ["stale"] * 12
    assert segment_rows(reseeded) == [(0, 7, 8, 8, "rendered"), (7, 19, 1, 13, "stale")]
    report = main_json(capsys, *render)
    assert (report["rendered"], report["reused"]) == (12, 8)
    assert segment_rows(main_json(capsys, *status)) == [(0, 7, 8, 8, "rendered"), (7, 19, 13, 13, "rendered")]

    # 7. A GIF of the same frames, without rendering anything.
    gif = tmp_path / "story.gif"
    report = main_json(capsys, "render", project, "--out", gif, "--cache", cache)
    assert (report["rendered"], report["video"]) == (0, str(gif))
    with Image.open(gif) as image:
        assert (image.n_frames, image.size) == (20, (64, 64))
