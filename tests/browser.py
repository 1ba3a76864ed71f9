"""Driving the studio in a real browser (Playwright + Debian's chromium): what the browser tests share.

The `browser` and `page` fixtures are in conftest.py; here are the launch settings and the
steps a person takes on the page (type a prompt, set a number, load a project file) and waits
for what the timeline shows.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 240_000  # rendering on a busy 2-core machine

expect.set_options(timeout=60_000)  # a page load or an event can take long on a busy machine
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium")


def prompt_box(page: Page, row: int):
    return page.locator(f"#kf-{row}-prompt textarea")


def set_number(page: Page, elem_id: str, value: int) -> None:
    box = page.locator(f"#{elem_id} input")
    box.fill(str(value))
    box.blur()


def wait_for_states(page: Page, expected: list[str], timeout: int = RENDER_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "expected => JSON.stringify([...document.querySelectorAll('#timeline .sdvc-cell')]"
        ".map(c => c.dataset.state)) === JSON.stringify(expected)",
        arg=expected,
        timeout=timeout,
    )


def all_done(keyframes: list[int], count: int) -> list[str]:
    return ["keyframe" if i in keyframes else "rendered" for i in range(count)]


def upload_project(page: Page, path: Path) -> None:
    """Click "Load project" and pick the file, as a person would."""
    with page.expect_file_chooser() as chooser:
        page.locator("#load-project").click()
    chooser.value.set_files(str(path))
