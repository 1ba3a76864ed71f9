"""The API through gradio_client against a live `python app.py --model demo`.

The story: generate two keyframes, interpolate 5 frames between their conditioning files, the
same prompt and seed give the same picture, a project renders to a video of the right length.
Then bad input, each answered with a clear error while the server goes on answering.
"""

import json

import imageio_ffmpeg
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from pixels import pixels

pytestmark = pytest.mark.slow  # every test here talks to a live app server

FOX = {"prompt": "a red fox in the snow", "negative_prompt": "", "style": "none", "seed": 1}
CITY = {"prompt": "a city at night", "negative_prompt": "", "style": "watercolor", "seed": 2}
SETTINGS = {"steps": 4, "guidance": 0.0, "width": 64, "height": 64}


@pytest.fixture(scope="module")
def client(demo_server) -> Client:
    return Client(demo_server.url, analytics_enabled=False, verbose=False)


@pytest.fixture(scope="module")
def keyframes(client) -> list[tuple[str, str]]:
    """(image, conditioning) of the fox and the city."""
    return [client.predict(**kf, **SETTINGS, api_name="/generate") for kf in (FOX, CITY)]


def test_api_page_lists_the_endpoints_with_their_parameters(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    names = {name: [p["parameter_name"] for p in info["parameters"]] for name, info in endpoints.items()}
    assert names == {
        "/generate": ["prompt", "negative_prompt", "style", "seed", "steps", "guidance", "width", "height"],
        "/interpolate": ["start", "end", "frames"],
        "/candidates": ["prompt", "negative_prompt", "style", "seed", "count", "steps", "guidance", "width", "height"],
        "/encode_image": ["image", "prompt", "negative_prompt", "style", "steps", "guidance", "width", "height"],
        "/render_project": ["project", "draft", "fast"],
        "/analyze_audio": ["audio"],
        "/frame": ["project", "index"],
        "/encode": ["prompt", "negative_prompt", "style", "seed", "steps", "guidance", "width", "height", "scheduler"],
        "/render_batch": ["batch"],
        "/server_info": [],
    }
    generate = endpoints["/generate"]["parameters"]
    assert all(p["label"].startswith(p["parameter_name"] + ":") for p in generate), "labels describe parameters"
    assert "t = i / (frames + 1)" in endpoints["/interpolate"]["description"]


def test_generate_gives_a_png_and_a_conditioning_file(keyframes):
    (fox_image, fox_conditioning), (city_image, _) = keyframes
    assert pixels(fox_image).shape == (64, 64, 3)
    assert fox_conditioning.endswith(".safetensors")
    assert not np.array_equal(pixels(fox_image), pixels(city_image))


def test_same_prompt_and_seed_give_the_same_image(client, keyframes):
    again, _ = client.predict(**FOX, **SETTINGS, api_name="/generate")
    assert np.array_equal(pixels(again), pixels(keyframes[0][0]))
    other_seed, _ = client.predict(**{**FOX, "seed": 7}, **SETTINGS, api_name="/generate")
    assert not np.array_equal(pixels(other_seed), pixels(keyframes[0][0]))


def test_interpolate_gives_the_in_betweens_in_order(client, keyframes):
    (fox_image, fox), (city_image, city) = keyframes
    frames = client.predict(start=handle_file(fox), end=handle_file(city), frames=5, api_name="/interpolate")
    assert len(frames) == 5
    images = [pixels(f["image"]) for f in frames]
    assert all(image.shape == (64, 64, 3) for image in images)
    assert [f["caption"].split()[0] for f in frames] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    # In order: the first in-between is nearer the fox, the last nearer the city.
    start, end = pixels(fox_image).astype(float), pixels(city_image).astype(float)
    first, last = images[0].astype(float), images[-1].astype(float)
    assert np.abs(first - start).mean() < np.abs(first - end).mean()
    assert np.abs(last - end).mean() < np.abs(last - start).mean()


def video_frame_count(path: str) -> int:
    frames, _seconds = imageio_ffmpeg.count_frames_and_secs(path)
    return frames


def test_render_project_returns_a_video_and_stats(client, tmp_path):
    project = {
        "model": "demo",
        **SETTINGS,
        "fps": 4,
        "keyframes": [{"frame": 0, **FOX}, {"frame": 5, **CITY}],
    }
    video, stats = client.predict(project=json.dumps(project), api_name="/render_project")
    assert video_frame_count(video) == 6
    assert stats["frames_total"] == 6
    assert stats["rendered"] + stats["reused"] == 6
    assert stats["reused"] >= 2  # both keyframes came from /generate's frames
    # The same project again, sent as a file: nothing left to render.
    path = tmp_path / "project.json"
    path.write_text(json.dumps(project))
    video_again, stats_again = client.predict(project=handle_file(str(path)), api_name="/render_project")
    assert (stats_again["rendered"], stats_again["reused"]) == (0, 6)
    assert video_frame_count(video_again) == 6


def test_render_project_in_fast_mode_renders_its_own_frames_once(client):
    project = json.dumps(
        {"model": "demo", **SETTINGS, "steps": 8, "fps": 4, "keyframes": [{"frame": 0, **FOX}, {"frame": 3, **CITY}]}
    )
    exact = client.predict(project=project, api_name="/render_project")[1]
    fast_video, fast = client.predict(project=project, fast=True, api_name="/render_project")
    assert (exact["frames_total"], fast["rendered"], fast["reused"]) == (4, 4, 0)  # fast frames have their own keys
    assert video_frame_count(fast_video) == 4
    assert client.predict(project=project, fast=True, api_name="/render_project")[1]["rendered"] == 0


def api_error(client, api_name: str, **kwargs) -> str:
    with pytest.raises(AppError) as caught:
        client.predict(**kwargs, api_name=api_name)
    return str(caught.value)


@pytest.fixture
def small_conditioning(client, keyframes) -> str:
    """A conditioning at 72x64: valid on its own, but not a pair for the 64x64 keyframes."""
    _, conditioning = client.predict(**FOX, **{**SETTINGS, "width": 72}, api_name="/generate")
    return conditioning


def test_bad_input_gets_a_clear_error_and_the_server_goes_on(
    client, keyframes, tmp_path, small_conditioning, demo_server
):
    (_, fox), (_, city) = keyframes
    fake = tmp_path / "fake.safetensors"
    fake.write_text("this is a text file, not tensors")
    cases = [
        (
            "/interpolate",
            {"start": handle_file(str(fake)), "end": handle_file(city), "frames": 5},
            "start: not a valid .safetensors file",
        ),
        (
            "/interpolate",
            {"start": handle_file(fox), "end": handle_file(small_conditioning), "frames": 5},
            "differ in settings",
        ),
        (
            "/interpolate",
            {"start": handle_file(fox), "end": handle_file(city), "frames": 0},
            "frames must be at least 1, got 0",
        ),
        (
            "/interpolate",
            {"start": handle_file(fox), "end": handle_file(city), "frames": 10**6},
            "frames must be at most 240 (SDVC_MAX_SEGMENT_FRAMES), got 1000000",
        ),
        ("/generate", {**FOX, **SETTINGS, "prompt": "   "}, "prompt is empty"),
        ("/generate", {**FOX, **SETTINGS, "width": 65}, "width must be a multiple of 8 and at least 64, got 65"),
        ("/render_project", {"project": "{not json"}, "project is not valid JSON"),
        (
            "/render_project",
            {"project": json.dumps({"keyframes": [{"frame": 3, "prompt": "x"}]})},
            "keyframe 1 frame must be 0",  # counted as the page counts
        ),
    ]
    for api_name, kwargs, expected in cases:
        message = api_error(client, api_name, **kwargs)
        assert expected in message, f"{api_name} {kwargs}: {message}"
        assert demo_server.alive(), f"the server stopped answering after {api_name} {kwargs}"
    # Still working, not only answering.
    frames = client.predict(start=handle_file(fox), end=handle_file(city), frames=1, api_name="/interpolate")
    assert len(frames) == 1
