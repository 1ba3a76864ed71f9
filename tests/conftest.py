"""Shared fixtures: an offline, isolated home for the demo model and frames, built once per session.

SDVC_HOME, GRADIO_TEMP_DIR and HF_HUB_OFFLINE are set at import, before any test runs, so
subprocesses (the CLI, app servers) inherit them: the demo model is built once into the session's
home and every process loads it from there. Nothing touches the network or the user's cache.
The home is removed when the session ends, failed or not; a run that leaves a new file in the
repository (other than the README's screenshots, which the browser tests rewrite) fails.

Tests that start processes (app servers, the CLI, a browser) or render many frames in this
process (seconds each) are marked `slow`: `pytest -m "not slow"` is the fast loop for everyday
work, `bash .ci/run` runs everything.
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from files import files_under

SESSION_HOME = Path(tempfile.mkdtemp(prefix="sdvc-tests-"))
os.environ["SDVC_HOME"] = str(SESSION_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["GRADIO_TEMP_DIR"] = str(SESSION_HOME / "gradio")  # app servers' uploads and outputs, clients' downloads

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down (app servers stopped)
def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def repository_left_clean():
    """The whole run writes no new file into the repository (only the README's screenshots change)."""
    before = files_under(ROOT)
    yield
    left = sorted(str(p.relative_to(ROOT)) for p in files_under(ROOT) - before)
    assert left == [], f"the tests left files in the repository: {left}"


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


@pytest.fixture(scope="module")
def browser():
    """One headless chromium for a module's browser tests (tests/browser.py has its settings)."""
    from browser import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser context on the studio of the session's server, its first prompt box shown."""
    from browser import prompt_box
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(demo_server.url)
    expect(prompt_box(page, 0)).to_be_visible()
    yield page
    context.close()
