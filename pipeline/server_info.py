"""A server's self-description on /server_info, and the client's check that it renders our pixels.

Another instance of this app can do the model work for this one (remote.py). Before any work the
client reads the server's /server_info (`server_info` builds it): the app, its version, the model
it runs, the render and demo model versions its pixels come from, and the limits a client must
respect (frames per /render_batch call, upload size), and the remote it renders on, if any. `check_server_info` refuses a server whose
frames would differ from this app's for the project's model, so frames from another model or
version never land under this project's keys. `ENDPOINTS` are the API such a server publishes.
"""

from typing import Any

from . import __version__
from .errors import RemoteError
from .frame_recipe import RENDER_VERSION
from .limits import limits
from .presets import DEMO, DEMO_VERSION

APP = "sd-video-creator"
ENDPOINTS = ("/server_info", "/encode", "/render_batch")  # what a remote render calls


def server_info(model: str, rendered: int, remote: str = "") -> dict[str, Any]:
    """What a server says about itself on /server_info; `check_server_info` reads it."""
    return {
        "app": APP,
        "version": __version__,
        "model": model,
        "render_version": RENDER_VERSION,
        "demo_version": DEMO_VERSION,
        "max_batch_frames": limits().max_batch_frames,
        "max_upload_bytes": limits().max_upload_bytes,
        "frames_rendered": rendered,  # frames its model has rendered since it started
        "remote": remote or None,  # where it renders, when not itself: chosen by its operator only
    }


def check_server_info(info: Any, model: str, remote: str) -> None:
    """Refuse a remote that would render other pixels than this app for `model`."""
    if not isinstance(info, dict) or info.get("app") != APP:
        raise RemoteError(f"remote {remote} is not an SD Video Creator server (its /server_info says {info!r:.200})")
    theirs = (info.get("model"), info.get("render_version"), info.get("demo_version"))
    if theirs[0] != model:
        raise RemoteError(
            f"remote {remote} runs model {theirs[0]!r}, but the project asks for model {model!r}; "
            f"start the remote with --model {model} or render locally"
        )
    if theirs[1] != RENDER_VERSION:
        raise RemoteError(
            f"remote {remote} renders with render version {theirs[1]!r}, this app with {RENDER_VERSION}; "
            "their frames would differ, so run the same version of the app on both"
        )
    if model == DEMO and theirs[2] != DEMO_VERSION:
        raise RemoteError(
            f"remote {remote} has demo model {theirs[2]!r}, this app {DEMO_VERSION!r}; "
            "run the same version of the app on both"
        )
