"""Bad input against a live server's API and against the CLI: each refused with a message naming
the problem (and the limit it hit), nothing written outside the app's folders, the server alive.

One table of mistakes (`CASES`). Each is sent to the API (`gradio_client`, or raw HTTP where the
client would not send it as a hostile client does) and, when a project file can carry the same
mistake, to the CLI (`python -m pipeline render`, its main run in this process; test_limits and
test_hostile_files run it as a subprocess). After each: a /generate must still succeed, the repository
(the server's working folder) is unchanged, and every new file of the session's home lies in the
app's folders (frames, request folders, Gradio's temporary folder).
"""

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import torch
from cli import run_main
from conftest import ROOT, SESSION_HOME
from files import files_under, saved
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from pipeline.conditioning import load_conditioning

pytestmark = pytest.mark.slow  # every test here talks to a live app server

FOX = {"prompt": "a red fox in the snow", "negative_prompt": "", "style": "none", "seed": 1}
SETTINGS = {"steps": 4, "guidance": 0.0, "width": 64, "height": 64}
CANARY = "sdvc-evil"  # in every hostile file name: no file by this name may appear outside the app's folders
APP_FOLDERS = ("frames", "requests", "gradio")  # under SDVC_HOME (GRADIO_TEMP_DIR is SDVC_HOME/gradio in tests)
MIB = 2**20


def project(keyframes: list[dict] | None = None, **fields) -> dict:
    """A valid two-keyframe demo project, with `fields` changed."""
    if keyframes is None:
        keyframes = [{"frame": 0, **FOX}, {"frame": 4, "prompt": "a city at night", "seed": 2}]
    return {"model": "demo", **SETTINGS, "fps": 8, **fields, "keyframes": keyframes}


def encode(data: dict | bytes) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


@dataclass
class Api:
    """The server, a client, and the files the cases send."""

    url: str
    client: Client
    files: dict[str, str]

    def error(self, api_name: str, **kwargs) -> str:
        with pytest.raises(AppError) as caught:
            self.client.predict(**kwargs, api_name=api_name)
        return str(caught.value)

    def raw_error(self, api_name: str, data: list) -> str:
        """Call an endpoint over HTTP with exactly `data` (no client-side upload or check)."""
        event = httpx.post(f"{self.url}/gradio_api/call/{api_name.strip('/')}", json={"data": data}, timeout=60)
        event_id = event.json()["event_id"]
        answer = httpx.get(f"{self.url}/gradio_api/call/{api_name.strip('/')}/{event_id}", timeout=120).text
        assert "event: error" in answer, answer
        return json.loads(answer.split("data:", 1)[1].splitlines()[0])["error"]

    def upload(self, name: str, data: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/gradio_api/upload", files={"files": (name, data)}, timeout=60)


def generate(**changed) -> Callable[[Api], str]:
    return lambda api: api.error("/generate", **{**FOX, **SETTINGS, **changed})


def render(data: dict | bytes) -> Callable[[Api], str]:
    return lambda api: api.error("/render_project", project=encode(data).decode())


def interpolate(start: str = "fox", end: str = "city", frames: int = 2) -> Callable[[Api], str]:
    def send(api: Api) -> str:
        files = [handle_file(api.files[name]) if name else None for name in (start, end)]
        return api.error("/interpolate", start=files[0], end=files[1], frames=frames)

    return send


def render_file(name: str) -> Callable[[Api], str]:
    return lambda api: api.error("/render_project", project=handle_file(api.files[name]))


def path_like_upload(api: Api) -> str:
    """An upload named ../../<canary>: stored under its base name in Gradio's folder, then refused."""
    response = api.upload(f"../../{CANARY}.safetensors", b"not tensors")
    stored = Path(response.json()[0])
    assert stored.name == f"{CANARY}.safetensors" and stored.is_relative_to(SESSION_HOME / "gradio")
    start = {"path": str(stored), "orig_name": f"../../{CANARY}.safetensors", "meta": {"_type": "gradio.FileData"}}
    return api.raw_error("/interpolate", [start, start, 2])


def path_never_uploaded(api: Api) -> str:
    """A file path on the server that no one uploaded: Gradio refuses it before the app sees it."""
    return api.raw_error(
        "/render_project", [{"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}, False, False]
    )


def upload_over_the_limit(api: Api) -> str:
    response = api.upload(f"{CANARY}.safetensors", bytes(16 * MIB + 1))
    assert response.status_code == 413
    return response.text


@dataclass(frozen=True)
class Bad:
    api: Callable[[Api], str]  # sends the mistake, returns the error message
    message: str  # a part of that message
    project: dict | bytes | None = None  # the same mistake in a project file, for the CLI
    cli_message: str | None = None  # what the CLI says, when it is not `message`


DEEP = b"[" * 100_000 + b"]" * 100_000
BIG = json.dumps(project()).encode() + b" " * (2 * MIB)  # valid JSON, 2 MiB
OUT_OF_ORDER = project(keyframes=[{"frame": 0, **FOX}, {"frame": 8, "prompt": "b"}, {"frame": 4, "prompt": "c"}])
LONG_SEGMENT = project(keyframes=[{"frame": 0, **FOX}, {"frame": 300, "prompt": "b"}])
NAN_GUIDANCE = encode(project()).replace(b'"guidance": 0.0', b'"guidance": NaN')
SEGMENT = "frame: in-between frames after frame 0 must be at most 240 (SDVC_MAX_SEGMENT_FRAMES), got 299"
# The server counts keyframes as the page does (keyframe 2); the CLI names the file's field (keyframes[1]).
PROJECT_FRAMES = (
    "keyframes[1].frame must be between 0 and 1439 (a project has at most 1440 frames: SDVC_MAX_PROJECT_FRAMES), "
    "got 1000000"
)
# fmt: off
CASES = {
    # Conditioning files (the API only: the CLI takes none).
    "text posing as .safetensors": Bad(interpolate("text"), "start: not a valid .safetensors file ("),
    "header claiming 1 TiB": Bad(interpolate("huge header"), "start: not a valid .safetensors file (header of 1099511627776 bytes in a file of"),
    "header not JSON": Bad(interpolate(end="corrupt header"), "end: not a valid .safetensors file ("),
    "float64 tensor": Bad(interpolate("float64"), "start: tensor latents is torch.float64, expected torch.float32"),
    "batch of two": Bad(interpolate("batch of 2"), "start: tensor latents has shape (2, 4, 8, 8), expected batch size 1"),
    "NaN in a tensor": Bad(interpolate("nan"), "start: tensor latents holds NaN or infinite values"),
    "conditioning of another model": Bad(interpolate("other model", "other model"), "start was made with model 'sd-1.5'; this server runs 'demo'"),
    "conditioning of another size": Bad(interpolate(end="72x64"), "the two conditioning files differ in settings"),
    "not a .safetensors name": Bad(interpolate("text.txt"), "Invalid file type. Please upload a file that is one of these formats: ['.safetensors']"),
    "no conditioning file": Bad(interpolate(start=""), "start is missing: send a conditioning file from /generate"),
    "path-like upload name": Bad(path_like_upload, "start: not a valid .safetensors file ("),
    "server path never uploaded": Bad(path_never_uploaded, "Cannot move /etc/hostname to the gradio cache dir because it was not uploaded by a user"),
    "upload over the size limit": Bad(upload_over_the_limit, "File size exceeded maximum allowed size of 16777216 bytes"),
    "in-betweens 0": Bad(interpolate(frames=0), "frames must be at least 1, got 0", project(keyframes=[]), "keyframes must be a non-empty list, got []"),
    "in-betweens 10**6": Bad(interpolate(frames=10**6), "frames must be at most 240 (SDVC_MAX_SEGMENT_FRAMES), got 1000000", project(keyframes=[{"frame": 0, **FOX}, {"frame": 10**6, "prompt": "x"}]), PROJECT_FRAMES),
    # Projects (the API's /render_project and the CLI).
    "project not JSON": Bad(render(b"{not json"), "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2", b"{not json"),
    "project nested 100000 deep": Bad(render(DEEP), "is not valid JSON", DEEP),
    "project text of 2 MiB": Bad(render(BIG), "project must be at most 1 MiB (SDVC_MAX_PROJECT_BYTES), got 2 MiB", BIG, "must be at most 1 MiB (SDVC_MAX_PROJECT_BYTES), got 2 MiB"),
    "project file of 2 MiB": Bad(render_file("big project"), "project must be at most 1 MiB (SDVC_MAX_PROJECT_BYTES), got 2 MiB", BIG, "must be at most 1 MiB (SDVC_MAX_PROJECT_BYTES), got 2 MiB"),
    "project a list": Bad(render(b"[]"), "a project must be a JSON object, got list", b"[]"),
    "width as text": Bad(render(project(width="64")), "width must be an integer, got '64'", project(width="64")),
    "unknown field": Bad(render(project(evil=1)), "evil is not a known field (known: audio, easing, fast, fps", project(evil=1)),
    "frames out of order": Bad(
        render(OUT_OF_ORDER),
        "keyframe 3 frame must be greater than 8, got 4",
        OUT_OF_ORDER,
        "keyframes[2].frame must be greater than 8, got 4",
    ),
    "segment of 299 frames": Bad(render(LONG_SEGMENT), f"keyframe 2 {SEGMENT}", LONG_SEGMENT, f"keyframes[1].{SEGMENT}"),
    "guidance NaN": Bad(render(NAN_GUIDANCE), "guidance must be between 0.0 and 30.0, got nan", NAN_GUIDANCE),
    "fps 0": Bad(render(project(fps=0)), "fps must be between 1 and 120, got 0", project(fps=0)),
    "another model in the project": Bad(render(project(model="sd-1.5")), "model 'sd-1.5' is not available on this server, which renders with 'demo'"),
    "a folder as the model": Bad(render(project(model="../../../..")), "model '../../../..' is not available on this server, which renders with 'demo'"),
    # API parameters (/generate), and the same values in a project for the CLI.
    "width 65": Bad(generate(width=65), "width must be a multiple of 8 and at least 64, got 65", project(width=65)),
    "width 100000": Bad(generate(width=100_000), "width must be at most 1024 (SDVC_MAX_SIDE), got 100000", project(width=100_000)),
    "steps 0": Bad(generate(steps=0), "steps must be between 1 and 50 (SDVC_MAX_STEPS), got 0", project(steps=0)),
    "steps 10**6": Bad(generate(steps=10**6), "steps must be between 1 and 50 (SDVC_MAX_STEPS), got 1000000", project(steps=10**6)),
    "negative seed": Bad(generate(seed=-1), "seed must be between 0 and 9223372036854775807, got -1", project(keyframes=[{**FOX, "frame": 0, "seed": -1}])),
    "prompt of 100000 characters": Bad(generate(prompt="x" * 100_000), "prompt (in characters) must be at most 1000 (SDVC_MAX_PROMPT_CHARS), got 100000", project(keyframes=[{**FOX, "frame": 0, "prompt": "x" * 100_000}])),
    "unknown style": Bad(generate(style="../../etc/passwd"), "style must be one of none, cinematic", project(keyframes=[{**FOX, "frame": 0, "style": "../../etc/passwd"}])),
    "empty prompt": Bad(generate(prompt="   "), "prompt is empty", project(keyframes=[{**FOX, "frame": 0, "prompt": "   "}])),
    "width as text to /generate": Bad(generate(width="sixty-four"), "Expected a `float | None`, but the value passed to the event handler was: 'sixty-four'"),
}
# fmt: on


@pytest.fixture(scope="module")
def api(demo_server, tmp_path_factory) -> Api:
    """A client, the fox and city conditioning files from /generate, and broken copies of the fox's."""
    client = Client(demo_server.url, analytics_enabled=False, verbose=False)
    _, fox = client.predict(**FOX, **SETTINGS, api_name="/generate")
    _, city = client.predict(**{**FOX, "prompt": "a city at night", "seed": 2}, **SETTINGS, api_name="/generate")
    _, small = client.predict(**FOX, **{**SETTINGS, "width": 72}, api_name="/generate")
    folder = tmp_path_factory.mktemp("hostile")
    valid = load_conditioning(Path(fox))
    good = Path(fox).read_bytes()
    length = int.from_bytes(good[:8], "little")

    def edited(name: str, **tensors: torch.Tensor) -> str:
        return str(saved(folder / f"{CANARY}-{name}.safetensors", {**valid.tensors, **tensors}, valid.metadata))

    def raw(name: str, data: bytes, suffix: str = ".safetensors") -> str:
        path = folder / f"{CANARY}-{name}{suffix}"
        path.write_bytes(data)
        return str(path)

    nan = valid.tensors["latents"].clone()
    nan[0, 0, 0, 0] = float("nan")
    files = {
        "fox": fox,
        "city": city,
        "72x64": small,
        "text": raw("text", b"this is a text file, not tensors"),
        "text.txt": raw("text", b"this is a text file, not tensors", ".txt"),
        "huge header": raw("huge", (2**40).to_bytes(8, "little") + good[8:]),
        "corrupt header": raw("corrupt", good[:8] + b"{" * length + good[8 + length :]),
        "float64": edited("float64", latents=valid.tensors["latents"].double()),
        "batch of 2": edited("batch", latents=torch.cat([valid.tensors["latents"]] * 2)),
        "nan": edited("nan", latents=nan),
        "other model": str(
            saved(folder / f"{CANARY}-other.safetensors", valid.tensors, {**valid.metadata, "model": "sd-1.5"})
        ),
        "big project": raw("big-project", BIG, ".json"),
    }
    return Api(demo_server.url, client, files)


def home_files() -> set[Path]:
    return files_under(SESSION_HOME)


def outside_app_folders(paths: set[Path]) -> set[Path]:
    return {p for p in paths if not any(p.is_relative_to(SESSION_HOME / folder) for folder in APP_FOLDERS)}


def canaries_outside() -> list[Path]:
    """Files named like the hostile uploads anywhere a path-like name could have put them."""
    places = [ROOT, ROOT.parent, SESSION_HOME, SESSION_HOME.parent, SESSION_HOME / "gradio"]
    return [p for place in places for p in place.glob(f"{CANARY}*")]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_clearly_and_the_server_goes_on(case, api, demo_server, tmp_path, capsys):
    bad = CASES[case]
    repo_before, home_before = files_under(ROOT), home_files()
    # 1. The API: the error names the problem.
    message = bad.api(api)
    assert bad.message in message, message
    assert "Traceback" not in message and len(message) < 1000
    # 2. The CLI, when a project file can carry the same mistake: exit 2, one line, no video.
    if bad.project is not None:
        project_file = tmp_path / f"{CANARY}.json"
        project_file.write_bytes(encode(bad.project))
        status, _, stderr = run_main(capsys, "render", str(project_file), "--out", str(tmp_path / "video.mp4"))
        assert status == 2, stderr
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
        assert (bad.cli_message or bad.message) in stderr
        assert not (tmp_path / "video.mp4").exists()
    # 3. Nothing written outside the app's folders; the repository (the server's cwd) untouched.
    assert files_under(ROOT) == repo_before
    assert outside_app_folders(home_files() - home_before) == set()
    assert canaries_outside() == []
    # 4. The server still works: a keyframe renders.
    assert demo_server.alive()
    image, _ = api.client.predict(**FOX, **SETTINGS, api_name="/generate")
    with Image.open(image) as picture:
        assert picture.size == (64, 64)


def test_the_matrix_covers_the_issue(api):
    both = [name for name, bad in CASES.items() if bad.project is not None]
    assert len(both) >= 20, both  # each sent to the API and to the CLI
    assert len(CASES) >= 30


def test_the_server_states_its_upload_limit(demo_server):
    config = httpx.get(f"{demo_server.url}/config", timeout=30).json()
    assert config["max_file_size"] == 16 * MIB  # SDVC_MAX_UPLOAD_BYTES's default


def test_old_request_folders_are_removed_on_the_next_request(api):
    root = SESSION_HOME / "requests"
    now = time.time()
    old, recent = root / "req-from-two-days-ago", root / "req-from-an-hour-ago"
    for folder, age_s in ((old, 2 * 24 * 3600), (recent, 3600)):
        folder.mkdir(parents=True)
        (folder / "video.mp4").write_bytes(b"an old video")
        os.utime(folder, (now - age_s, now - age_s))
    _, conditioning = api.client.predict(**FOX, **SETTINGS, api_name="/generate")
    assert not old.exists()  # older than a day (workspace.MAX_AGE_S)
    assert recent.exists()  # its files may still be downloading
    assert Path(conditioning).stat().st_size > 0
