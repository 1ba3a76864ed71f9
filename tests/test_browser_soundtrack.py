"""The Soundtrack panel in a real browser (Playwright + Debian's chromium), as a person uses it.

A click track (120 BPM, from 0.52 s) is uploaded into the panel: the tempo shows, the timeline
draws its waveform with a beat line at each click, which move when frame 0 plays later in the
track; Keyframes on beats (every 4) moves the rows
to the clicks' frames, Fit to audio puts the last one at the track's end; with the timing
"follow the music", Create video makes an mp4 with an H.264 and an AAC stream of the same length
that the page's player plays with sound. A file that is not audio is refused by name, and the
panel takes an upload again. The screenshot docs/soundtrack.png (README) is taken here.
"""

import re

import pytest
from browser import RENDER_TIMEOUT_MS, needs_chromium
from conftest import ROOT
from playwright.sync_api import Page, expect
from test_soundtrack import CLICKS, SECONDS, click_track, picture_and_sound_seconds

pytestmark = [needs_chromium, pytest.mark.slow]
FPS = 8  # the starter project's
CLICK_FRAMES = [round(c * FPS) for c in CLICKS]  # 4, 8, 12, ...


def frame_value(page: Page, row: int):
    return page.locator(f"#kf-{row}-frame input")


def test_upload_a_track_see_its_beats_place_keyframes_and_play_the_video_with_sound(page: Page, tmp_path):
    page.locator("#soundtrack-panel").get_by_text("Soundtrack").first.click()
    page.locator("#soundtrack input[type=file]").set_input_files(str(click_track(tmp_path / "clicks.wav")))
    expect(page.locator("#soundtrack-info")).to_contain_text("BPM")
    expect(page.locator("#soundtrack-info")).to_contain_text(f"{len(CLICKS)} beats · {SECONDS:.1f} s")
    # The starter project's 17 frames: the clicks at frames 4.16, 8.16, 12.16 (16.16 is past the end).
    beats = page.locator("#timeline .tl-audio .tl-beats line")
    expect(beats).to_have_count(3)
    positions = [float(beats.nth(i).get_attribute("x1")) for i in range(3)]
    assert [round(p) for p in positions] == CLICK_FRAMES[:3]
    assert page.locator("#timeline .tl-audio .tl-peaks rect").count() == 17
    start = page.locator("#audio-start input")  # frame 0 half a second into the track: the beats 4 frames earlier
    start.fill("0.5")
    start.blur()
    expect(page.locator("#soundtrack-info")).to_contain_text("frame 0 plays at 0.5 s")
    expect(beats.first).to_have_attribute("x1", re.compile(r"^0\.\d+$"))
    start.fill("0")
    start.blur()
    expect(page.locator("#soundtrack-info")).to_contain_text("frame 0 plays at 0 s")
    expect(beats).to_have_count(3)

    page.locator("#on-beats").click()
    expect(frame_value(page, 1)).to_have_value(str(CLICK_FRAMES[0]))
    expect(frame_value(page, 2)).to_have_value(str(CLICK_FRAMES[4]))
    expect(page.locator("#status")).to_contain_text(f"frames 0, {CLICK_FRAMES[0]}, {CLICK_FRAMES[4]}")
    expect(beats).to_have_count(4)  # 21 frames now: the click at 20.16 is past the last frame
    page.locator("#fit-audio").click()
    expect(frame_value(page, 2)).to_have_value(str(int(SECONDS * FPS)))
    page.locator("#on-beats").click()  # back to 21 frames: a short render
    expect(frame_value(page, 2)).to_have_value(str(CLICK_FRAMES[4]))

    page.locator("#timing input").click()
    page.get_by_role("option", name="follow the music").click()
    expect(page.locator("#timing input")).to_have_value("follow the music")
    page.screenshot(path=ROOT / "docs" / "soundtrack.png", full_page=False, clip=_panel_clip(page))

    page.locator("#create-video").click()
    player = page.locator("#video video[src*='.mp4']")
    player.wait_for(timeout=RENDER_TIMEOUT_MS)
    with page.expect_download() as download:
        page.locator("#downloads a").first.click()
    mp4 = tmp_path / "sd-video.mp4"
    download.value.save_as(mp4)
    seconds = picture_and_sound_seconds(mp4)
    assert seconds[0] == pytest.approx(21 / FPS) and abs(seconds[0] - seconds[1]) <= 1 / FPS

    player.click()  # a person's click lets the page play sound
    page.evaluate("v => { v.muted = false; return v.play(); }", player.element_handle())
    page.wait_for_function(
        "v => v.currentTime > 0.5 && v.webkitAudioDecodedByteCount > 0", arg=player.element_handle(), timeout=30_000
    )

    # A file that is not audio, after removing the track: refused by name; the panel takes uploads again.
    page.locator("#soundtrack button[aria-label='Clear']").click()
    expect(page.locator("#soundtrack-info")).to_contain_text("No soundtrack")
    bad = tmp_path / "notes.wav"
    bad.write_text("not a sound " * 100)
    page.locator("#soundtrack input[type=file]").set_input_files(str(bad))
    expect(page.get_by_text("soundtrack 'notes.wav': not an audio file we can read")).to_be_visible()
    expect(page.locator("#soundtrack input[type=file]")).to_have_count(1)
    expect(page.locator("#timeline .sdvc-cell")).to_have_count(21)  # the project as it was


def _panel_clip(page: Page) -> dict:
    """The timeline and the Soundtrack panel under it."""
    top = page.locator("#timeline").bounding_box()
    panel = page.locator("#soundtrack-panel").bounding_box()
    return {"x": top["x"], "y": top["y"], "width": top["width"], "height": panel["y"] + panel["height"] - top["y"]}
