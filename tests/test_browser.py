"""The studio in a real browser (Playwright + Debian's chromium), the creator's whole story.

Enter prompts, generate keyframes, interpolate, watch the timeline turn green, create the video
and download it; edit one prompt and see exactly its two segments go stale, interpolate again;
reload and find the project; save and load project files; a bad prompt gives a clear error.
Screenshots go to docs/studio.png (shown in the README) and to the test's tmp folder.
"""

import json
import re

import imageio_ffmpeg
import pytest
from browser import RENDER_TIMEOUT_MS, all_done, needs_chromium, prompt_box, set_number, upload_project, wait_for_states
from conftest import ROOT
from playwright.sync_api import Page, expect

PROMPTS = [
    "a red fox asleep in the snow",
    "a lighthouse in a storm",
    "a field of sunflowers",
    "a snowy mountain at sunset",
]
FRAMES = [0, 4, 8, 12]  # 13 frames, three segments of 3 in-betweens
pytestmark = [needs_chromium, pytest.mark.slow]


def colour(page: Page, frame: int) -> str:
    return page.eval_on_selector(
        f"#timeline .sdvc-cell[data-frame='{frame}']", "c => getComputedStyle(c).backgroundColor"
    )


def segment_states(page: Page) -> list[str]:
    """The State column of the segment table, top to bottom."""
    return re.findall(r"\b(rendered|stale|missing|partial)\b", page.locator("#segments-table").inner_text())


def test_the_creators_story(page: Page, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    # 1. Three prompts of our own, at frames 0, 4, 8, and a fourth row added with the button.
    for row, text in enumerate(PROMPTS[:3]):
        prompt_box(page, row).fill(text)
    set_number(page, "kf-1-frame", FRAMES[1])
    set_number(page, "kf-2-frame", FRAMES[2])
    page.locator("#add-row").click()
    expect(prompt_box(page, 3)).to_be_visible()
    expect(prompt_box(page, 2)).to_have_value(PROMPTS[2])  # the rows kept what was typed
    prompt_box(page, 3).fill(PROMPTS[3])
    set_number(page, "kf-3-frame", FRAMES[3])
    wait_for_states(page, ["missing"] * 13, timeout=30_000)

    # 2. Generate keyframes: the gallery fills, keyframe cells get their own colour.
    page.locator("#generate").click()
    expect(page.locator("#keyframe-gallery img")).to_have_count(4, timeout=RENDER_TIMEOUT_MS)
    wait_for_states(page, ["keyframe" if i in FRAMES else "missing" for i in range(13)])
    expect(page.locator("#keyframe-gallery")).to_contain_text("frame 4 · a lighthouse in a storm")
    page.screenshot(path=shots / "1-keyframes.png", full_page=True)

    # 3. Interpolate: every in-between turns green; the table says so.
    page.locator("#interpolate").click()
    wait_for_states(page, all_done(FRAMES, 13))
    assert colour(page, 1) == "rgb(34, 197, 94)"  # green
    assert colour(page, 4) == "rgb(99, 102, 241)"  # keyframe indigo
    expect(page.locator("#segments-table")).to_contain_text("5/5")
    assert segment_states(page) == ["rendered"] * 3

    # 4. Create the video: the player gets a source, the mp4 downloads with all 13 frames.
    page.locator("#create-video").click()
    page.wait_for_selector("#video video[src*='.mp4']", timeout=RENDER_TIMEOUT_MS)
    with page.expect_download() as download:
        page.locator("#downloads a").first.click()
    video = tmp_path / "studio.mp4"
    download.value.save_as(video)
    assert imageio_ffmpeg.count_frames_and_secs(str(video))[0] == 13
    page.screenshot(path=shots / "2-video.png", full_page=True)

    # 5. Edit the second prompt: exactly its two segments (frames 1-7) go stale, the third stays.
    prompt_box(page, 1).fill("a lighthouse under the stars")
    prompt_box(page, 1).blur()
    stale = ["keyframe"] + ["stale"] * 7 + ["keyframe", "rendered", "rendered", "rendered", "keyframe"]
    wait_for_states(page, stale, timeout=30_000)
    assert colour(page, 2) == "rgb(245, 158, 11)"  # amber
    assert segment_states(page) == ["stale", "stale", "rendered"]
    page.screenshot(path=shots / "3-edited.png", full_page=True)

    # 6. Interpolate again: all green, and only the stale frames were rendered.
    page.locator("#interpolate").click()
    wait_for_states(page, all_done(FRAMES, 13))
    expect(page.locator("#status")).to_contain_text("7 frames rendered", timeout=30_000)
    page.screenshot(path=shots / "4-again.png", full_page=True)
    page.screenshot(path=ROOT / "docs" / "studio.png", full_page=True)

    # 7. Reload: the session's project comes back, with its frames.
    page.reload()
    expect(prompt_box(page, 1)).to_have_value("a lighthouse under the stars")
    expect(prompt_box(page, 3)).to_have_value(PROMPTS[3])
    wait_for_states(page, all_done(FRAMES, 13), timeout=30_000)


def test_project_files_and_bad_input(page: Page, tmp_path):
    # Save: the project file holds what the form shows.
    prompt_box(page, 0).fill("a paper boat on a pond")
    page.locator("#save-project").click()
    with page.expect_download() as download:
        page.locator("#project-file a").first.click(timeout=60_000)
    saved = tmp_path / "saved.json"
    download.value.save_as(saved)
    project = json.loads(saved.read_text())
    assert project["keyframes"][0]["prompt"] == "a paper boat on a pond"
    # Load: a two-keyframe project replaces the rows and the timeline.
    project["keyframes"] = [
        {"frame": 0, "prompt": "a desert at noon", "seed": 5},
        {"frame": 3, "prompt": "a desert at night", "seed": 6},
    ]
    upload = tmp_path / "two.json"
    upload.write_text(json.dumps(project))
    upload_project(page, upload)
    expect(prompt_box(page, 1)).to_have_value("a desert at night")
    expect(prompt_box(page, 2)).to_have_count(0)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(4)

    # Bad input: an empty prompt gets a clear error, and nothing else is lost.
    prompt_box(page, 1).fill("   ")
    page.locator("#generate").click()
    expect(page.locator(".toast-body").first).to_contain_text("keyframe 2 prompt is empty")
    expect(prompt_box(page, 0)).to_have_value("a desert at noon")  # nothing else lost
    expect(page.locator("#field-error")).to_contain_text("Timeline not updated: keyframe 2 prompt is empty")
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(4)
    # A file that is not a project: an error, and the rows stay as they were.
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    upload_project(page, junk)
    expect(page.locator(".toast-body").last).to_contain_text("not valid JSON")
    expect(prompt_box(page, 0)).to_have_value("a desert at noon")
    page.screenshot(path=tmp_path / "error.png", full_page=True)
