"""Rendering on a remote instance: A runs the demo model, B (`app.py --remote A`) and the CLI render through it.

The story: a project rendered through B is pixel-equal to A's own local render and B's store
holds it under the same keys; editing one keyframe re-renders only its two segments, counted
on A's side too; the CLI renders through A the same way. A remote with another model is
refused. Then A stops in the middle of a render: B says so naming A and keeps the frames it
received; the CLI cannot reach A and says so in one line, without the token; A comes back and
B finishes the render from where it stopped. The batch file a remote takes is checked as
hostilely as a conditioning file.
"""

import contextlib
import functools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from app_server import app_server, free_port
from cli import run_cli
from conftest import PYTHON, write_project
from gradio_client import Client
from gradio_client.exceptions import AppError
from pixels import assert_same_frame, pixels

from pipeline.errors import InputError, RemoteError
from pipeline.frame_batch import load_batch, save_batch
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice, remote_choice
from pipeline.project import RenderSettings, parse_project
from pipeline.remote import RemoteBackend, check_remote
from pipeline.server_info import check_server_info, server_info
from pipeline.timeline import plan_timeline

STEPS = 2  # the demo model at 64x64: cheap frames
STORY = [
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
    {"frame": 4, "prompt": "a city at night", "seed": 2},
    {"frame": 9, "prompt": "a quiet lake", "style": "watercolor", "seed": 3},
]
EDITED = [  # a story of its own, whose middle keyframe the edit test changes
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 11},
    {"frame": 4, "prompt": "a city at night", "seed": 12},
    {"frame": 9, "prompt": "a quiet lake", "style": "watercolor", "seed": 13},
]
LONG = [  # 33 frames: 5 batches of 8, time enough to stop A in the middle
    {"frame": 0, "prompt": "a lighthouse in a storm", "seed": 4},
    {"frame": 32, "prompt": "a desert at noon", "seed": 5},
]
SETTINGS = RenderSettings("demo", 64, 64, STEPS, 0.0, "euler")


def project_json(keyframes: list[dict], **settings) -> str:
    return json.dumps({"model": "demo", "width": 64, "height": 64, "steps": STEPS, **settings, "keyframes": keyframes})


class RemoteA:
    """`app.py --model demo` on a fixed port, so it can be stopped and started again at the same URL."""

    def __init__(self, log: Path, cache: Path) -> None:
        self.port, self.log, self.cache = free_port(), log, cache
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = contextlib.ExitStack()

    def start(self) -> None:
        args = ("--model", "demo", "--cache", str(self.cache))
        self._running.enter_context(app_server(PYTHON, self.log, *args, port=self.port))

    def stop(self) -> None:
        self._running.close()

    def info(self) -> dict:
        return self.client().predict(api_name="/server_info")

    def client(self) -> Client:
        return Client(self.url, analytics_enabled=False, verbose=False)


@dataclass(frozen=True)
class ServerB:
    url: str
    cache: Path  # its frame store

    @functools.cached_property
    def client(self) -> Client:
        return Client(self.url, analytics_enabled=False, verbose=False)


@pytest.fixture(scope="module")
def servers(demo_model_dir, tmp_path_factory):
    """A, and B (`app.py --model demo --remote A`, its own frame store), started side by side."""
    a_folder, b_folder = tmp_path_factory.mktemp("remote-a"), tmp_path_factory.mktemp("server-b")
    a = RemoteA(a_folder / "app.log", a_folder / "frames")
    b_args = ("--model", "demo", "--remote", a.url, "--cache", str(b_folder / "frames"))
    with contextlib.ExitStack() as b_running, ThreadPoolExecutor(2) as pool:
        started_b = pool.submit(b_running.enter_context, app_server(PYTHON, b_folder / "app.log", *b_args))
        try:
            a.start()
            b = ServerB(started_b.result().url, b_folder / "frames")
            yield a, b
        finally:
            a.stop()


@pytest.fixture(scope="module")
def remote_a(servers) -> RemoteA:
    return servers[0]


@pytest.fixture(scope="module")
def server_b(servers) -> "ServerB":
    return servers[1]


def render_on(client: Client, project: str) -> dict:
    _, stats = client.predict(project=project, api_name="/render_project")
    return stats


def frames(cache: Path, project: str) -> list[np.ndarray]:
    store = FrameStore(cache)
    return [store.read(plan.key) for plan in plan_timeline(parse_project(json.loads(project)))]


def stored(cache: Path) -> int:
    return len(list(cache.glob("*/*.png")))


# -- Through B and the CLI, while A runs --------------------------------------------------------


@pytest.mark.slow
def test_a_project_rendered_through_b_matches_a_local_render(remote_a, server_b):
    project = project_json(STORY)
    before = remote_a.info()["frames_rendered"]
    stats = render_on(server_b.client, project)
    assert (stats["rendered"], stats["reused"]) == (10, 0)
    assert remote_a.info()["frames_rendered"] - before == 10, "every frame was rendered by A"
    assert server_b.client.predict(api_name="/server_info")["model"] == "demo"
    # A renders the same project locally, into its own store, under the same keys. Both renders
    # batch the same 10 frames alike (8 + 2), so their pixels are identical.
    assert render_on(remote_a.client(), project)["frames_total"] == 10
    through_b, local = frames(server_b.cache, project), frames(remote_a.cache, project)
    assert len(through_b) == 10
    for i, (b, a) in enumerate(zip(through_b, local, strict=True)):
        assert np.array_equal(b, a), f"frame {i} differs from the local render"
    assert len({f.tobytes() for f in through_b}) == 10, "ten distinct frames"


@pytest.mark.slow
def test_editing_one_keyframe_re_renders_only_its_segments_on_the_remote(remote_a, server_b):
    assert render_on(server_b.client, project_json(EDITED))["rendered"] == 10
    edited = [EDITED[0], {**EDITED[1], "prompt": "a city at dawn"}, EDITED[2]]
    before = remote_a.info()["frames_rendered"]
    stats = render_on(server_b.client, project_json(edited))
    assert (stats["rendered"], stats["reused"]) == (8, 2), "frames 1-8 changed; keyframes 0 and 9 did not"
    assert remote_a.info()["frames_rendered"] - before == 8
    again = render_on(server_b.client, project_json(edited))
    assert (again["rendered"], again["reused"]) == (0, 10)
    assert remote_a.info()["frames_rendered"] - before == 8, "nothing new reached A"


@pytest.mark.slow
def test_the_cli_renders_through_the_remote(remote_a, tmp_path):
    path = write_project(tmp_path / "story.json", STORY, steps=STEPS)
    before = remote_a.info()["frames_rendered"]
    result = run_cli("render", str(path), "--out", str(tmp_path / "v.mp4"), "--cache", str(tmp_path / "c"),
                     "--remote", remote_a.url, "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout.splitlines()[-1])
    assert (stats["rendered"], stats["reused"]) == (10, 0)
    assert remote_a.info()["frames_rendered"] - before == 10
    assert (tmp_path / "v.mp4").stat().st_size > 0
    render_on(remote_a.client(), project_json(STORY))  # A's own render, batched alike (8 + 2): identical pixels
    for b, a in zip(
        frames(tmp_path / "c", project_json(STORY)), frames(remote_a.cache, project_json(STORY)), strict=True
    ):
        assert np.array_equal(b, a)


@pytest.mark.slow
def test_a_remote_with_another_model_is_refused(remote_a, server_b, tmp_path):
    expected = f"remote {remote_a.url} runs model 'demo', but the project asks for model 'sd-turbo'"
    # B, a server, renders only its own model (the remote's) and refuses before asking A.
    with pytest.raises(AppError, match="model 'sd-turbo' is not available on this server, which renders with 'demo'"):
        render_on(server_b.client, project_json(STORY, model="sd-turbo", width=64, height=64))
    # The CLI renders any model it is given: the remote itself refuses, naming both models.
    path = tmp_path / "turbo.json"
    path.write_text(project_json(STORY, model="sd-turbo", width=64, height=64))
    result = run_cli("render", path, "--out", tmp_path / "v.mp4", "--cache", tmp_path / "c", "--remote", remote_a.url)
    assert result.returncode == 1
    assert f"{expected}; start the remote with --model sd-turbo or render locally" in result.stderr
    # `app.py --remote A` without --model takes A's; with another, it is refused the same way.
    backend = RemoteBackend(remote_a.url)
    assert remote_choice(backend, None) == ModelChoice("demo", "demo", "", remote_a.url)
    with pytest.raises(RemoteError, match=f"^{expected}"):
        remote_choice(backend, "sd-turbo")


@pytest.mark.slow
def test_the_studio_renders_on_the_remote_its_backend_option_names(remote_a, tmp_path):
    import gradio as gr

    from ui import handlers
    from ui.context import AppContext
    from ui.form import Form

    def progress(*args, **kwargs) -> None:
        pass

    here = AppContext(
        model=ModelChoice("demo", "demo", ""), store=FrameStore(tmp_path / "frames"), backend=None, remote_choice=True
    )  # a private instance: --allow-remote-choice
    form = parse_project(json.loads(project_json(STORY))).to_json()
    rows = form.pop("keyframes")
    on_a = Form(form, rows, {}, [0, 1], backend="remote", remote=remote_a.url)  # the studio's backend option
    with pytest.raises(gr.Error, match="remote must be an http"):
        handlers.change_backend(here, replace(on_a, remote=" "), progress)
    there = on_a.backend_context(here)
    assert there.remote == remote_a.url and on_a.backend_context(here).backend is there.backend
    assert Form(form, rows).backend_context(there).remote == ""  # "local"
    # Choosing the remote takes its model (and that model's preset) into the form.
    update = handlers.change_backend(
        here, replace(on_a, settings={**form, "model": "sd-1.5", "width": 512, "height": 512}), progress
    )
    assert (update.settings["model"], update.settings["width"]) == ("demo", 64)
    assert update.model_status == f"✅ Active model: `demo` on remote `{remote_a.url}`"
    # Generating keyframes renders them on A: the same pictures as A's own render of the project,
    # up to rounding (the three keyframes are one batch there, the project batches of 8 and 2 here).
    before = remote_a.info()["frames_rendered"]
    update = handlers.generate_keyframes(here, on_a, progress)
    assert update.status.startswith("Keyframes: 3 generated, 0 unchanged")
    assert remote_a.info()["frames_rendered"] - before == 3
    render_on(remote_a.client(), project_json(STORY))
    local = frames(remote_a.cache, project_json(STORY))
    assert len(update.gallery) == 3
    for (path, _), frame in zip(update.gallery, (0, 4, 9), strict=True):
        assert_same_frame(pixels(path), local[frame], f"keyframe at frame {frame}")


# -- A stops in the middle of a render, and comes back -------------------------------------------


@pytest.mark.slow
def test_remote_stopping_mid_render_keeps_frames_and_the_next_render_finishes(remote_a, server_b, tmp_path):
    project = project_json(LONG)
    earlier = stored(server_b.cache)  # what other tests left in B's store
    job = server_b.client.submit(project=project, api_name="/render_project")
    deadline = time.monotonic() + 240
    while stored(server_b.cache) < earlier + 8 and not job.done() and time.monotonic() < deadline:
        time.sleep(0.1)  # wait for LONG's first batch
    remote_a.stop()
    with pytest.raises(AppError) as error:
        job.result(timeout=120)
    assert f"remote {remote_a.url} went away" in str(error.value)
    kept = stored(server_b.cache) - earlier
    assert 8 <= kept < 33 and kept % 8 == 0, f"{kept} frames kept: whole batches, not the whole project"

    # While A is down, the CLI says so in one line, naming A and never the token.
    path = write_project(tmp_path / "long.json", LONG, steps=STEPS)
    token = {"SDVC_TEST_TOKEN": "hf_not_a_real_secret"}
    result = run_cli("render", str(path), "--out", str(tmp_path / "v.mp4"), "--cache", str(tmp_path / "c"),
                     "--remote", remote_a.url, "--hf-token-env", "SDVC_TEST_TOKEN", env=token)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot connect to remote {remote_a.url}: ")
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert "hf_not_a_real_secret" not in result.stderr + result.stdout

    # A is back: B renders only what it lacks, and all of it on A.
    remote_a.start()
    stats = render_on(server_b.client, project)
    assert (stats["rendered"], stats["reused"]) == (33 - kept, kept)
    assert remote_a.info()["frames_rendered"] == 33 - kept


# -- The pieces, without servers -----------------------------------------------------------------


def test_server_info_mismatches_are_refused_naming_both_sides():
    info = server_info("demo", 0)
    check_server_info(info, "demo", "r")  # the same: accepted
    cases = {
        "another model": ({}, "sd-turbo", "remote r runs model 'demo', but the project asks for model 'sd-turbo'"),
        "another render version": ({"render_version": 99}, "demo", "remote r renders with render version 99, this app"),
        "another demo model": (
            {"demo_version": "demo-v0"},
            "demo",
            "remote r has demo model 'demo-v0', this app 'demo-v1'",
        ),
        "another app": ({"app": "other"}, "demo", "remote r is not an SD Video Creator server"),
    }
    for name, (change, model, message) in cases.items():
        with pytest.raises(RemoteError, match="^" + message.replace("(", r"\(")) as error:
            check_server_info({**info, **change}, model, "r")
        assert error.value, name


def test_remote_names_are_checked():
    assert check_remote(" user/space ") == "user/space"
    assert check_remote("https://user-space.hf.space") == "https://user-space.hf.space"
    for bad in ("", "ftp://host", "not a space", "/etc/passwd", "a/b/c"):
        with pytest.raises(InputError, match="remote must be an http"):
            check_remote(bad)


def test_an_unreachable_remote_is_a_remote_error_without_the_token():
    backend = RemoteBackend(f"http://127.0.0.1:{free_port()}", token="hf_secret_value")
    with pytest.raises(RemoteError, match=r"^cannot connect to remote http://127\.0\.0\.1:\d+: ") as error:
        backend.info()
    assert "hf_secret_value" not in str(error.value) + repr(backend)


def test_a_token_variable_that_is_not_set_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    from pipeline.__main__ import main

    monkeypatch.delenv("SDVC_UNSET_TOKEN", raising=False)
    path = write_project(tmp_path / "story.json", STORY, steps=STEPS)
    args = ["render", str(path), "--out", str(tmp_path / "v.mp4"), "--remote", "user/space"]
    assert main([*args, "--hf-token-env", "SDVC_UNSET_TOKEN"]) == 2
    message = "error: --hf-token-env names 'SDVC_UNSET_TOKEN', but that environment variable is not set"
    assert capsys.readouterr().err.splitlines() == [message]
    assert main([*args[:-2], "--hf-token-env", "SDVC_UNSET_TOKEN"]) == 2
    assert capsys.readouterr().err.splitlines() == ["error: --hf-token-env is for --remote only"]


def batch_frames(count: int) -> list[dict[str, torch.Tensor]]:
    rng = torch.Generator().manual_seed(0)
    return [
        {"prompt_embeds": torch.randn(1, 77, 32, generator=rng), "latents": torch.randn(1, 4, 8, 8, generator=rng)}
        for _ in range(count)
    ]


def test_a_batch_file_round_trips(tmp_path):
    sent = batch_frames(3)
    received = load_batch(save_batch(SETTINGS, sent, tmp_path / "b.safetensors"))
    assert [f.settings for f in received] == [SETTINGS] * 3
    for a, b in zip(sent, received, strict=True):
        assert all(torch.equal(a[k], b.tensors[k]) for k in a)


def test_hostile_batch_files_are_refused(tmp_path, set_limits):
    from safetensors.torch import save_file

    good = save_batch(SETTINGS, batch_frames(2), tmp_path / "good.safetensors")
    metadata = load_batch(good)[0].metadata

    def batch(name: str, tensors=None, **meta) -> Path:
        path = tmp_path / f"{name}.safetensors"
        stacked = tensors or {k: torch.cat([f[k] for f in batch_frames(2)]) for k in ("prompt_embeds", "latents")}
        save_file(stacked, str(path), metadata={**metadata, **meta})
        return path

    nan = torch.zeros(2, 77, 32)
    nan[1, 0, 0] = float("nan")
    cases = {
        "not a batch file": (batch("format", format="sd-video-creator/conditioning-v1"), "not a frame batch file"),
        "other batch sizes": (
            batch("sizes", {"prompt_embeds": torch.zeros(2, 77, 32), "latents": torch.zeros(3, 4, 8, 8)}),
            "its tensors must share one batch size",
        ),
        "NaN in frame 1": (
            batch("nan", {"prompt_embeds": nan, "latents": torch.zeros(2, 4, 8, 8)}),
            "batch frame 1: tensor prompt_embeds holds NaN",
        ),
        "another render version": (
            batch("version", render_version="0"),
            "batch: made for render version '0' and demo model 'demo-v1'; this server renders version 1 with demo-v1",
        ),
        "steps over the limit": (batch("steps", steps="500"), "batch: metadata steps must be between 1 and 50"),
        "truncated": (tmp_path / "cut.safetensors", "not a valid .safetensors file"),
    }
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[:100])
    for name, (path, message) in cases.items():
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace("{", r"\{")) as error:
            load_batch(path)
        assert error.value, name
    set_limits(max_batch_frames=1)
    with pytest.raises(
        InputError, match=r"batch: frames in one batch must be at most 1 \(SDVC_MAX_BATCH_FRAMES\), got 2"
    ):
        load_batch(good)


@pytest.mark.slow
def test_the_cli_drafts_through_the_remote(remote_a, tmp_path):
    path = write_project(tmp_path / "story.json", STORY, steps=STEPS)
    before = remote_a.info()["frames_rendered"]
    draft = run_cli("render", str(path), "--out", str(tmp_path / "d.mp4"), "--cache", str(tmp_path / "c"),
                    "--remote", remote_a.url, "--draft", "--json")  # fmt: skip
    assert draft.returncode == 0, draft.stderr
    assert json.loads(draft.stdout.splitlines()[-1])["rendered"] == 10
    assert remote_a.info()["frames_rendered"] - before == 10, "A rendered the drafts, with its tiny decoder"
    status = run_cli("status", str(path), "--cache", str(tmp_path / "c"), "--json")
    assert json.loads(status.stdout.splitlines()[-1])["drafts"] == 10
