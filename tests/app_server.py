"""Start `python app.py` as a subprocess on a free port for tests, and always stop it.

The server inherits SDVC_HOME and HF_HUB_OFFLINE from conftest, so it shares the session's
demo model and frame store. Ready means GET /gradio_api/info answers.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

START_TIMEOUT_S = 240  # gradio + torch imports take a while on a busy 2-core machine


@dataclass(frozen=True)
class AppServer:
    url: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        """The server still answers its API info."""
        try:
            with urllib.request.urlopen(f"{self.url}/gradio_api/info", timeout=30) as response:
                return response.status == 200
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(python: str, log: Path, *args: str, port: int | None = None) -> Iterator[AppServer]:
    """Run app.py with args on `port` (default: a free one) until the block ends."""
    port = port or free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    with log.open("a") as out:  # a restarted server adds to its log
        process = subprocess.Popen(
            [python, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its children too
        )
    server = AppServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.alive():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not start (exit {process.poll()}):\n{server.log_tail()}")
            time.sleep(1)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
