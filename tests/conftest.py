"""Shared fixtures: an offline, isolated home for the demo model and frames, built once per session.

SDVC_HOME, GRADIO_TEMP_DIR and HF_HUB_OFFLINE are set at import, before any test runs, so
subprocesses (the CLI, app servers) inherit them: the demo model is built once into the session's
home and every process loads it from there. Nothing touches the network or the user's cache.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

SESSION_HOME = Path(tempfile.mkdtemp(prefix="sdvc-tests-"))
os.environ["SDVC_HOME"] = str(SESSION_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["GRADIO_TEMP_DIR"] = str(SESSION_HOME / "gradio")  # app servers' uploads and outputs, clients' downloads

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@pytest.fixture(scope="session")
def demo_model_dir() -> Path:
    """The demo model, built once for the whole session."""
    from pipeline.demo_model import demo_model_dir

    return demo_model_dir()


def write_project(path: Path, keyframes: list[dict], **settings) -> Path:
    """A project file on the demo model at 64x64, 4 steps, unless settings say otherwise."""
    data = {"model": "demo", "width": 64, "height": 64, "steps": 4, "guidance": 0.0, "fps": 8, **settings}
    data["keyframes"] = keyframes
    path.write_text(json.dumps(data, indent=2))
    return path


@pytest.fixture
def three_keyframes() -> list[dict]:
    """The issue's story: keyframes at 0, 7 and 19 (20 frames)."""
    return [
        {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
        {"frame": 7, "prompt": "a city at night", "seed": 2},
        {"frame": 19, "prompt": "a quiet lake", "style": "watercolor", "seed": 3},
    ]


@pytest.fixture
def set_limits(monkeypatch):
    """set_limits(max_side=512, ...): override Limits through their SDVC_* variables for one test."""
    from pipeline.limits import env_var, limits

    def apply(**values) -> None:
        for name, value in values.items():
            monkeypatch.setenv(env_var(name), str(value))
        limits.cache_clear()

    yield apply
    limits.cache_clear()


@pytest.fixture(scope="session")
def demo_server(demo_model_dir, tmp_path_factory):
    """One `python app.py --model demo` for the whole session (API, README and browser tests)."""
    from app_server import app_server

    with app_server(PYTHON, tmp_path_factory.mktemp("server") / "app.log", "--model", "demo") as server:
        yield server
