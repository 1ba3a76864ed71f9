"""The remote backend: the model work done by another running instance of this app, through its API.

`RemoteBackend(url_or_space_id)` is a renderer backend (see backends.py) whose `encode` calls
the remote's `/encode` and whose `render` sends a batch of conditioning tensors to its
`/render_batch` (one file, one pipeline call there: the same pixels as a local render of that
batch). Frame keys, the frame store and re-rendering only what changed stay local, exactly as
with a local render.

Before any work, the remote's `/server_info` must name the model the project asks for, this
app's render version and, for the demo model, its version (server_info.py): frames from another
model never land under this project's keys. Everything a remote sends back is checked like an
upload.

Failures become `RemoteError` naming the remote: unreachable (connections time out after
CONNECT_TIMEOUT_S), gone mid-render (the frames of finished batches are already in the store;
the next render reconnects and goes on), or refusing a call. A token is sent only when given,
never the machine's saved one, and never appears in a message.
"""

import concurrent.futures
import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from .errors import InputError, RemoteError
from .project import Keyframe, RenderSettings
from .server_info import ENDPOINTS, check_server_info

if TYPE_CHECKING:
    from .conditioning import Conditioning

CONNECT_TIMEOUT_S = 10.0  # a remote that does not answer a connection in this long is down
READ_TIMEOUT_S = 120.0  # silence on an open call; a live Gradio server sends a heartbeat every 15 s
HEADER_SLACK_BYTES = 64 * 1024  # a batch file's header and metadata, besides its tensors
_SPACE_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def check_remote(remote: str, field: str = "remote") -> str:
    """An http(s) URL or a Hugging Face Space id (owner/name), stripped; InputError otherwise."""
    text = remote.strip() if isinstance(remote, str) else ""
    if not (text.startswith(("http://", "https://")) and len(text) > 8) and not _SPACE_ID.match(text):
        raise InputError(f"{field} must be an http(s) URL or a Space id (owner/name), got {remote!r}")
    return text


def token_from_env(variable: str | None, field: str = "--hf-token-env") -> str | None:
    """The token in environment variable `variable` (None when no variable is named)."""
    if variable is None:
        return None
    token = os.environ.get(variable, "").strip()
    if not token:
        raise InputError(f"{field} names {variable!r}, but that environment variable is not set")
    return token


class RemoteBackend:
    """Encodes and renders on a remote instance of this app; connects on first use."""

    def __init__(self, remote: str, token: str | None = None) -> None:
        self.remote = check_remote(remote)
        self._token = token  # sent to this remote only; never shown
        self._client = None  # gradio_client.Client, None until connected (and after a failure)
        self._info: dict[str, Any] = {}
        self._downloads = tempfile.TemporaryDirectory(prefix="sdvc-remote-")  # files the remote sends; gone at exit
        self.rendered = 0  # frames received so far

    def __repr__(self) -> str:
        return f"RemoteBackend({self.remote!r})"

    def info(self, fresh: bool = False) -> dict[str, Any]:
        """The remote's /server_info: fetched on connecting, and again when `fresh`."""
        if self._client is None:
            self._connect()
        elif fresh:
            self._info = self._call("/server_info")
        return self._info

    def check(self, settings: RenderSettings, fresh: bool = False) -> None:
        """RemoteError unless the remote renders with the model and versions these settings need."""
        check_server_info(self.info(fresh), settings.model, self.remote)

    def check_fits(self, conditioning: "Conditioning", name: str) -> None:
        """A conditioning file must suit the remote's model (the remote checks its tensors on rendering)."""
        self.check(conditioning.settings)

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> "Conditioning":
        from .conditioning import load_conditioning

        if keyframe.image is not None:
            raise InputError(
                f"the keyframe at frame {keyframe.frame} is a picture: picture keyframes render locally only "
                "(the remote backend sends prompts, not pictures)"
            )
        self.check(settings, fresh=True)  # every render encodes first: the remote may have restarted since
        path = self._call(
            "/encode",
            prompt=keyframe.prompt,
            negative_prompt=keyframe.negative_prompt,
            style=keyframe.style,
            seed=keyframe.seed,
            steps=settings.steps,
            guidance=settings.guidance,
            width=settings.width,
            height=settings.height,
            scheduler=settings.scheduler,
        )
        try:
            conditioning = self._received(lambda: load_conditioning(Path(path), "its conditioning file"), [path])
        except InputError as exc:
            raise RemoteError(f"remote {self.remote} sent a bad file: {exc}") from None
        if conditioning.settings != settings or conditioning.keyframe.inputs() != keyframe.inputs():
            raise RemoteError(f"remote {self.remote} encoded other settings or another keyframe than asked for")
        return conditioning

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        """(H, W, 3) uint8 images for a batch of conditioning tensor dicts, in as few calls as the remote allows."""
        from .frame_batch import save_batch

        self.check(settings)  # and the remote refuses a batch made for other versions or another model
        images: list[np.ndarray] = []
        size = self._frames_per_call(frames[0])
        for first in range(0, len(frames), size):
            chunk = frames[first : first + size]
            with tempfile.TemporaryDirectory(prefix="sdvc-batch-") as folder:
                batch = save_batch(settings, chunk, Path(folder) / "batch.safetensors")
                gallery = self._call("/render_batch", batch=self._file(batch))
            images += self._images(gallery, settings, len(chunk))
            self.rendered += len(chunk)
        return images

    def _frames_per_call(self, frame: dict) -> int:
        """Frames in one /render_batch: within the remote's batch limit and upload size."""
        frame_bytes = sum(t.numel() * t.element_size() for t in frame.values())
        fitting = (int(self._info["max_upload_bytes"]) - HEADER_SLACK_BYTES) // frame_bytes
        return max(1, min(int(self._info["max_batch_frames"]), fitting))

    def _images(self, gallery: Any, settings: RenderSettings, count: int) -> list[np.ndarray]:
        """The gallery's PNGs as arrays, checked: `count` of them, RGB, the settings' size."""
        paths = [item.get("image") if isinstance(item, dict) else None for item in gallery or []]
        if len(paths) != count or not all(isinstance(p, str) for p in paths):
            raise RemoteError(f"remote {self.remote} sent {len(paths)} images for a batch of {count} frames")
        return self._received(lambda: [self._png(Path(p), settings) for p in paths], paths)

    def _png(self, path: Path, settings: RenderSettings) -> np.ndarray:
        with Image.open(path) as image:  # reads the header only: the size is checked before decoding
            if image.format != "PNG" or image.mode != "RGB" or image.size != (settings.width, settings.height):
                raise RemoteError(
                    f"remote {self.remote} sent a {image.format} {image.mode} image of {image.size[0]}x"
                    f"{image.size[1]}, expected an RGB PNG of {settings.width}x{settings.height}"
                )
            return np.asarray(image)  # (H, W, 3) uint8

    def _received(self, read, paths: list[str]):
        """read() the files the remote sent, then delete them."""
        try:
            return read()
        finally:
            for path in map(Path, paths):
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # the client's folder per download, when empty
                    path.parent.rmdir()

    def _file(self, path: Path):
        from gradio_client import handle_file

        return handle_file(str(path))

    def _connect(self) -> None:
        """Connect (once, or again after a failure) and check the remote has this app's API."""
        if self._client is not None:
            return
        import httpx
        from gradio_client import Client

        try:
            client = Client(
                self.remote,
                token=self._token or False,  # False: never the machine's saved token
                verbose=False,
                analytics_enabled=False,
                download_files=self._downloads.name,
                httpx_kwargs={"timeout": httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)},
            )
        except Exception as exc:  # noqa: BLE001  (httpx, huggingface_hub and gradio_client raise many types)
            raise RemoteError(f"cannot connect to remote {self.remote}: {_reason(exc)}") from None
        names = {endpoint.api_name for endpoint in client.endpoints.values()}
        missing = [name for name in ENDPOINTS if name not in names]
        if missing:
            client.close()
            raise RemoteError(f"remote {self.remote} lacks the API {', '.join(missing)}: it is not this app's version")
        self._client = client
        self._info = self._call("/server_info")

    def _call(self, api_name: str, **arguments: Any) -> Any:
        """One API call; a connection that fails is dropped, so the next call reconnects."""
        import httpx
        from gradio_client.exceptions import AppError

        self._connect()
        try:
            return self._client.predict(**arguments, api_name=api_name)
        except AppError as exc:  # the remote answered with an error message
            raise RemoteError(f"remote {self.remote} refused {api_name}: {exc}") from None
        except (httpx.HTTPError, OSError, concurrent.futures.CancelledError, concurrent.futures.TimeoutError) as exc:
            self._disconnect()
            raise RemoteError(
                f"remote {self.remote} went away during {api_name} ({_reason(exc)}); "
                "frames received so far are kept: render again once it is back"
            ) from None

    def _disconnect(self) -> None:
        client, self._client, self._info = self._client, None, {}
        if client is not None:
            client.close()

    def close(self) -> None:
        """Drop the connection and the download folder."""
        self._disconnect()
        self._downloads.cleanup()


def _reason(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
