"""What a new user hit in the studio (issue 13, points 2-9), each tried in a real browser.

One segment interpolated alone; row buttons redraw the timeline and survive a reload; a project
with other settings (or another model) loads without a server error; wide numbers fit their
fields; a wrong field is named the page's way beside the field and the message goes once fixed;
the keyframe gallery follows edits; a reload keeps the video; fractional frames and out-of-range
fps and steps get a message; Backend/Remote sit under Advanced; row buttons have text labels.
"""

import json

import pytest
from browser import RENDER_TIMEOUT_MS, needs_chromium, prompt_box, set_number, upload_project
from conftest import ROOT, write_project
from playwright.sync_api import Page, expect

pytestmark = [needs_chromium, pytest.mark.slow]


def states(page: Page) -> list[str]:
    return page.eval_on_selector_all("#timeline .sdvc-cell", "cells => cells.map(c => c.dataset.state)")


def field_error(page: Page):
    return page.locator("#field-error")


def short_project(page: Page) -> None:
    """The starter rows at frames 0, 3 and 6: 7 frames, two segments of 2 in-betweens."""
    set_number(page, "kf-1-frame", 3)
    set_number(page, "kf-2-frame", 6)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(7)


def test_one_segment_interpolated_alone(page: Page):
    short_project(page)
    second = page.locator("#segments-selector input").nth(1)
    expect(second).to_be_enabled()
    page.locator("#segments-selector label").first.click()  # untick segment 1
    expect(page.locator("#segments-selector input").first).not_to_be_checked()
    expect(second).to_be_checked()
    page.locator("#interpolate").click()
    expect(page.locator("#status")).to_contain_text("Interpolated", timeout=RENDER_TIMEOUT_MS)
    assert states(page)[1:3] == ["missing", "missing"]  # segment 1 left alone
    assert states(page)[3:] == ["keyframe", "rendered", "rendered", "keyframe"]


def test_row_buttons_redraw_at_once_and_survive_a_reload(page: Page):
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(17)
    page.locator("#add-row").click()
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(25)
    expect(prompt_box(page, 3)).to_be_visible()  # the rows drawn again: their buttons are the new ones
    page.locator("#kf-1-remove").click()  # the city row goes; the lake (frame 16) and the new row stay
    expect(prompt_box(page, 3)).to_have_count(0)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(25)
    expect(prompt_box(page, 1)).to_have_value("a quiet lake at dawn, mist over the water")
    page.locator("#kf-0-down").click()  # the fox and the lake swap places
    expect(prompt_box(page, 0)).to_have_value("a quiet lake at dawn, mist over the water")
    seed = page.locator("#kf-2-seed input")
    before = seed.input_value()
    page.locator("#kf-2-dice").click()
    expect(seed).not_to_have_value(before)
    after = seed.input_value()
    expect(page.locator("#kf-2-dice")).to_have_text("New seed")  # a label, not an emoji chromium cannot draw
    page.wait_for_timeout(500)  # the session is written with the redraw; give the browser a moment to store it
    page.reload()
    expect(prompt_box(page, 0)).to_have_value("a quiet lake at dawn, mist over the water")
    expect(prompt_box(page, 1)).to_have_value("a red fox in the snow, morning light")
    expect(prompt_box(page, 3)).to_have_count(0)
    expect(page.locator("#kf-2-seed input")).to_have_value(after)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(25)


def test_a_project_with_other_settings_or_model_loads(page: Page, tmp_path):
    errors: list[str] = []
    page.on("response", lambda r: errors.append(r.url) if r.status >= 500 else None)
    set_number(page, "fps", 12)
    page.wait_for_timeout(300)
    upload_project(page, ROOT / "examples" / "fox-to-city.json")
    expect(prompt_box(page, 1)).to_have_value("a city at night")
    expect(page.locator("#fps input")).to_have_value("8")
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(13)
    prompt_box(page, 1).fill("a city at dawn")  # the page keeps working
    set_number(page, "kf-1-frame", 6)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(7)
    other = write_project(tmp_path / "other.json", [{"frame": 0, "prompt": "a"}, {"frame": 4, "prompt": "b"}])
    other.write_text(json.dumps({**json.loads(other.read_text()), "model": "someone/another-model", "fps": 24}))
    upload_project(page, other)
    expect(page.locator("#status")).to_contain_text("someone/another-model")
    expect(page.locator("#status")).to_contain_text("not available on this server")
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(5)
    expect(page.locator(".toast-body")).to_have_count(0)
    assert errors == []


def test_wide_numbers_fit_their_fields(page: Page):
    set_number(page, "kf-2-frame", 240)
    set_number(page, "kf-0-seed", 4294967295)
    for elem_id in ("kf-2-frame", "kf-0-seed"):
        width, room = page.eval_on_selector(f"#{elem_id} input", "e => [e.scrollWidth, e.clientWidth]")
        assert width <= room, f"{elem_id}: text {width} px in a {room} px box"


def test_a_wrong_field_is_named_beside_it_and_the_message_goes_once_fixed(page: Page):
    set_number(page, "kf-2-frame", 5)
    expect(field_error(page)).to_contain_text("keyframe 3 frame must be greater than 8, got 5")
    expect(field_error(page)).not_to_contain_text("keyframes[2]")
    outline = page.eval_on_selector("#kf-2-frame", "e => getComputedStyle(e).outlineColor")
    assert outline == "rgb(220, 38, 38)"  # the field itself is outlined in red
    set_number(page, "kf-2-frame", 16)
    expect(field_error(page)).to_have_text("")
    assert page.eval_on_selector("#kf-2-frame", "e => getComputedStyle(e).outlineStyle") == "none"
    # Quietly wrong no more: a fractional frame, fps and steps out of range each get a message.
    for elem_id, value, message, fixed in (
        ("kf-1-frame", 8.5, "keyframe 2 frame must be an integer, got 8.5", 8),
        ("fps", 500, "fps must be between 1 and 120, got 500", 8),
        ("steps", 0, "steps must be between 1 and 50 (SDVC_MAX_STEPS), got 0", 2),
    ):
        set_number(page, elem_id, value)
        expect(field_error(page)).to_contain_text(message)
        expect(page.locator(f"#{elem_id} input")).to_have_value(str(value))  # the box shows what the project gets
        set_number(page, elem_id, fixed)
        expect(field_error(page)).to_have_text("")


def test_the_gallery_follows_edits_and_a_reload_keeps_the_video(page: Page):
    short_project(page)
    page.locator("#generate").click()
    expect(page.locator("#keyframe-gallery img")).to_have_count(3, timeout=RENDER_TIMEOUT_MS)
    set_number(page, "kf-2-frame", 9)
    expect(page.locator("#keyframe-gallery")).to_contain_text("frame 9 · a quiet lake")  # at once, no render
    prompt_box(page, 0).fill("a grey wolf in the snow")
    prompt_box(page, 0).blur()
    expect(page.locator("#keyframe-gallery")).to_contain_text("frame 0 · stale")
    fit = page.eval_on_selector("#keyframe-gallery img", "i => getComputedStyle(i).objectFit")
    assert fit == "contain"  # thumbnails are not cut
    page.locator("#create-video").click()
    page.wait_for_selector("#video video[src*='.mp4']", timeout=RENDER_TIMEOUT_MS)
    page.reload()
    expect(prompt_box(page, 0)).to_have_value("a grey wolf in the snow")
    page.wait_for_selector("#video video[src*='.mp4']")
    expect(page.locator("#downloads a[download='sd-video.mp4']")).to_have_count(1)


def test_advanced_holds_the_render_options_and_a_visitor_gets_no_backend_choice(page: Page):
    # The session's server runs without --allow-remote-choice: Backend and Remote are the operator's
    # (test_remote_lockdown.py); Advanced, below the model options, holds the scheduler and the rest.
    expect(page.locator("#model")).to_be_visible()
    expect(page.locator("#scheduler")).to_be_hidden()
    page.locator("#advanced").get_by_text("Advanced").click()
    expect(page.locator("#scheduler")).to_be_visible()
    expect(page.locator("#spacing")).to_be_visible()
    assert page.locator("#scheduler").bounding_box()["y"] > page.locator("#model").bounding_box()["y"]
    expect(page.locator("#backend")).to_have_count(0)
    expect(page.locator("#remote")).to_have_count(0)
