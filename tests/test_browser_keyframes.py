"""Keyframes the user chooses, in a real browser: candidates to pick from, and a picture of one's own.

The story: candidates for a row, pick the third (the row's seed becomes its seed and its frame
is already rendered), re-roll and go back for free; a picture becomes the next keyframe;
interpolate; save the project (a bundle: it names the picture); reload the page and load it: the same frames come
back without rendering. A project naming a file outside the session's folder is refused.
Screenshot: docs/candidates.png (shown in the README).
"""

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest
from browser import RENDER_TIMEOUT_MS, all_done, needs_chromium, prompt_box, set_number, upload_project, wait_for_states
from conftest import ROOT
from pictures import photo_like
from playwright.sync_api import Page, expect

pytestmark = [needs_chromium, pytest.mark.slow]
PROMPTS = ["a paper lantern over a river", "a red kite above the dunes", "a meadow under a blue sky"]
FRAMES = [0, 4, 8]  # 9 frames, two segments of 3 in-betweens
SEED = 70  # the second row's seed before picking: its candidates are seeds 70-73


def captions(page: Page) -> list[str]:
    return re.findall(r"seed \d+(?: ✓)?", page.locator("#candidates-gallery").inner_text())


def choose_picture(page: Page, row: int, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator(f"#kf-{row}-picture").click()
    chooser.value.set_files(str(path))


def test_pick_a_candidate_and_a_picture_then_save_and_reload(page: Page, tmp_path):
    # 1. Three keyframes of our own, at frames 0, 4 and 8.
    for row, text in enumerate(PROMPTS):
        prompt_box(page, row).fill(text)
    set_number(page, "kf-1-frame", FRAMES[1])
    set_number(page, "kf-2-frame", FRAMES[2])
    set_number(page, "kf-1-seed", SEED)
    steps = page.locator("#steps input[type=number]")  # 2 steps: inverting the picture costs 5 model calls a step
    steps.fill("2")
    steps.blur()
    wait_for_states(page, ["missing"] * 9, timeout=30_000)

    # 2. Candidates for the second row: four pictures from its seed on, in one batch.
    page.locator("#kf-1-candidates").click()
    expect(page.locator("#candidates-gallery img")).to_have_count(4, timeout=RENDER_TIMEOUT_MS)
    assert captions(page) == ["seed 70 ✓", "seed 71", "seed 72", "seed 73"]
    expect(page.locator("#status")).to_contain_text("4 rendered, 0 from the store")

    # 3. Pick the third: the row's seed becomes 72, and its keyframe frame is already rendered.
    page.locator("#candidates-gallery img").nth(2).click()
    expect(page.locator("#kf-1-seed input")).to_have_value("72")
    expect(page.locator("#status")).to_contain_text("candidate 3 picked (seed 72)")
    wait_for_states(page, ["missing"] * 4 + ["keyframe"] + ["missing"] * 4, timeout=30_000)
    assert captions(page) == ["seed 70", "seed 71", "seed 72 ✓", "seed 73"]

    # 4. Re-roll renders the next four; going back to the first four renders nothing.
    page.locator("#candidates-reroll").click()
    expect(page.locator("#status")).to_contain_text("4 rendered, 0 from the store", timeout=RENDER_TIMEOUT_MS)
    assert captions(page) == ["seed 74", "seed 75", "seed 76", "seed 77"]
    page.locator("#candidates-previous").click()
    expect(page.locator("#status")).to_contain_text("0 rendered, 4 from the store", timeout=RENDER_TIMEOUT_MS)
    assert captions(page) == ["seed 70", "seed 71", "seed 72 ✓", "seed 73"]

    # 5. A picture of our own becomes the third keyframe (strength 1).
    picture = tmp_path / "meadow.png"
    photo_like().save(picture)
    choose_picture(page, 2, picture)
    expect(page.locator("#kf-2-strength")).to_be_visible()
    expect(page.locator("#kf-2-picture-preview img")).to_be_visible()
    expect(page.locator("#kf-1-seed input")).to_have_value("72")  # the pick stays

    # 6. Generate: the picked keyframe comes from the store; interpolate: all green.
    page.locator("#generate").click()
    expect(page.locator("#status")).to_contain_text("Keyframes: 2 generated, 1 unchanged", timeout=RENDER_TIMEOUT_MS)
    page.locator("#interpolate").click()
    wait_for_states(page, all_done(FRAMES, 9))
    expect(page.locator("#status")).to_contain_text("6 frames rendered")
    page.evaluate("window.scrollTo(0, 0)")  # so that the status line's box is in page coordinates
    bottom = page.locator("#status").bounding_box()
    clip = {"x": 0, "y": 0, "width": 1400, "height": bottom["y"] + bottom["height"] + 16}
    page.screenshot(path=ROOT / "docs" / "candidates.png", full_page=True, clip=clip)

    # 7. Save: a bundle holding the picked seed and the picture, by content (it names a file).
    page.locator("#save-project").click()
    with page.expect_download() as download:
        page.locator("#project-file a").first.click(timeout=60_000)
    saved = tmp_path / "saved.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        saved_json = json.loads(bundle.read("project.json"))
        keyframes = saved_json["keyframes"]
        assert bundle.read(keyframes[2]["image"]) == picture.read_bytes()
    assert keyframes[1]["seed"] == 72
    sha256 = hashlib.sha256(picture.read_bytes()).hexdigest()
    assert (keyframes[2]["image"], keyframes[2]["strength"]) == (f"files/{sha256}.png", 1.0)

    # 8. Reload: the same rows and frames come back, nothing to render.
    page.reload()
    expect(page.locator("#kf-1-seed input")).to_have_value("72")
    expect(page.locator("#kf-2-picture-preview img")).to_be_visible()
    wait_for_states(page, all_done(FRAMES, 9), timeout=30_000)

    # 9. Load the saved file after a change: it comes back, all green; interpolating renders nothing.
    prompt_box(page, 0).fill("a paper lantern in the rain")
    prompt_box(page, 0).blur()
    edited = ["stale"] * 4 + ["keyframe", "rendered", "rendered", "rendered", "keyframe"]
    wait_for_states(page, edited, timeout=30_000)
    upload_project(page, saved)
    expect(prompt_box(page, 0)).to_have_value(PROMPTS[0])
    wait_for_states(page, all_done(FRAMES, 9), timeout=30_000)
    page.locator("#interpolate").click()
    expect(page.locator("#status")).to_contain_text("0 frames rendered, 9 reused", timeout=RENDER_TIMEOUT_MS)

    # 10. A project naming a server file, or one outside the session's folder: refused, nothing lost.
    for image, message in (("/etc/passwd", "absolute path"), ("../../frames", "outside the project folder")):
        forged = json.loads(json.dumps(saved_json))
        forged["keyframes"][2]["image"] = image
        path = tmp_path / "forged.json"
        path.write_text(json.dumps(forged))
        upload_project(page, path)
        expect(page.locator(".toast-body").last).to_contain_text(message)
    expect(page.locator("#kf-1-seed input")).to_have_value("72")
