"""The timeline in a real browser (Playwright + Debian's chromium): see, scrub, play, drag and zoom.

A three-keyframe project is rendered; a click shows frame 5 in the preview with the store's
pixels (and /frame gives the same PNG); Play moves the playhead; dragging the middle keyframe 4
frames right changes its row and turns exactly its two segments stale; a drag onto a neighbour
and a bad schedule are refused with a message, the project unchanged. A 1,440-frame project fits
the page and zooms to single cells that can be clicked (a drag beyond the last frame: tests/test_timeline.py).
The screenshot docs/timeline.png (shown in the README) is taken here.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from browser import all_done, needs_chromium, prompt_box, upload_project, wait_for_states
from conftest import ROOT, write_project
from gradio_client import Client
from playwright.sync_api import Page, expect

from pipeline.frame_store import FrameStore
from pipeline.presets import cache_root
from pipeline.project import load_project
from pipeline.timeline import plan_timeline

pytestmark = [needs_chromium, pytest.mark.slow]
KEYFRAMES = [
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
    {"frame": 8, "prompt": "a city at night", "seed": 2},
    {"frame": 16, "prompt": "a quiet lake", "seed": 3},
]


def drag(page: Page, keyframe: int, to_frame: int) -> None:
    """Mouse down on a keyframe's marker, move over frame `to_frame`'s cell, mouse up."""
    marker = page.locator(f"#timeline [data-keyframe='{keyframe}']").bounding_box()
    page.locator(f"#timeline [data-frame='{to_frame}']").scroll_into_view_if_needed()
    target = page.locator(f"#timeline [data-frame='{to_frame}']").bounding_box()
    marker = page.locator(f"#timeline [data-keyframe='{keyframe}']").bounding_box()
    page.mouse.move(marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, marker["y"] + 5, steps=8)
    page.mouse.up()


def states_after_move(project, source: int, target: int) -> list[str]:
    """Every frame's state once keyframe `source` moves to `target`, all frames rendered before."""
    before = {p.key for p in plan_timeline(project)}
    moved = [replace(k, frame=target) if k.frame == source else k for k in project.keyframes]
    after = plan_timeline(replace(project, keyframes=tuple(moved)))
    return ["keyframe" if p.is_keyframe else "rendered" if p.key in before else "stale" for p in after]


def frame_box(page: Page, row: int):
    return page.locator(f"#kf-{row}-frame input")


def test_see_play_and_drag_a_keyframe(page: Page, demo_server, tmp_path):
    path = write_project(tmp_path / "three.json", KEYFRAMES)
    upload_project(page, path)
    expect(prompt_box(page, 1)).to_have_value("a city at night")
    page.locator("#generate").click()
    wait_for_states(page, ["keyframe" if i in (0, 8, 16) else "missing" for i in range(17)])
    expect(page.locator("#timeline [data-keyframe='8'] img")).to_be_visible()  # the marker's thumbnail
    page.locator("#interpolate").click()
    wait_for_states(page, all_done([0, 8, 16], 17))

    # Click frame 5: the preview shows the store's PNG (no render), as /frame returns it.
    page.locator("#timeline [data-frame='5']").click()
    image = page.locator("#frame-preview img")
    expect(image).to_have_attribute("alt", "frame 5")
    stored = FrameStore(cache_root() / "frames").path(plan_timeline(load_project(path))[5].key)
    assert image.get_attribute("src").endswith(str(stored))
    shown = page.request.get(demo_server.url + image.get_attribute("src")).body()
    assert shown == stored.read_bytes()
    client = Client(demo_server.url, analytics_enabled=False, verbose=False)
    fetched = client.predict(path.read_text(), 5, api_name="/frame")
    assert Path(fetched).read_bytes() == shown
    page.screenshot(path=ROOT / "docs" / "timeline.png", full_page=False, clip=_timeline_clip(page))

    # Right steps to frame 6; Play runs the playhead through the frames.
    page.locator("#timeline .tl-scroll").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#frame-preview img")).to_have_attribute("alt", "frame 6")
    page.locator("#timeline [data-act='play']").click()
    expect(page.locator("#timeline [data-act='play']")).to_contain_text("Pause")
    seen = {page.locator("#frame-preview").get_attribute("data-shown")}
    for _ in range(20):
        page.wait_for_timeout(150)
        seen.add(page.locator("#frame-preview").get_attribute("data-shown"))
    assert len(seen) >= 3  # 8 fps: the playhead moved through frames
    page.locator("#timeline [data-act='play']").click()
    expect(page.locator("#timeline [data-act='play']")).to_contain_text("Play")

    # Drag the middle keyframe 4 frames right: its row follows, exactly its two segments go stale.
    drag(page, 8, 12)
    expect(frame_box(page, 1)).to_have_value("12")
    stale = states_after_move(load_project(path), 8, 12)
    assert stale.count("stale") == 8  # 6 of 14 keep a t they had on the same keyframes: their render is reused
    wait_for_states(page, stale, timeout=30_000)

    # A drag onto the next keyframe: refused with a message, nothing moved.
    drag(page, 12, 16)
    expect(page.locator(".toast-body").first).to_contain_text("keyframe 3 at frame 16 is in the way")
    expect(frame_box(page, 1)).to_have_value("12")
    wait_for_states(page, stale, timeout=10_000)

    # A schedule that does not parse: a message naming the line, the rows as they were.
    page.locator("#schedule-panel").click()
    page.locator("#schedule textarea").fill('"0": "a red fox",\n"48" "a city at night"')
    page.locator("#use-schedule").click()
    expect(page.locator(".toast-body").last).to_contain_text("schedule line 2")
    expect(frame_box(page, 1)).to_have_value("12")
    # A good one makes the keyframes.
    page.locator("#schedule textarea").fill('{"0": "a red fox", "6": "a city at night"}')
    page.locator("#use-schedule").click()
    expect(frame_box(page, 1)).to_have_value("6")
    expect(page.locator("#kf-2-frame")).to_have_count(0)
    expect(page.locator("#timeline [data-frame]")).to_have_count(7)


def _timeline_clip(page: Page) -> dict:
    box = page.locator("#timeline").bounding_box()
    return {"x": box["x"] - 8, "y": box["y"] - 8, "width": box["width"] + 16, "height": box["height"] + 16}


def test_a_long_timeline_fits_zooms_and_clicks(page: Page, tmp_path):
    keyframes = [{"frame": f, "prompt": f"scene {i}", "seed": i} for i, f in enumerate(range(0, 1440, 240))]
    keyframes.append({"frame": 1439, "prompt": "the end", "seed": 9})
    upload_project(page, write_project(tmp_path / "long.json", keyframes))
    expect(page.locator("#timeline [data-frame]")).to_have_count(1440)
    expect(page.locator("#timeline [data-keyframe]")).to_have_count(7)
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0  # fits the width: no page overflow
    last = page.locator("#timeline [data-keyframe='1439']")
    assert last.bounding_box()["x"] < 1400  # the last keyframe is on screen
    # Cells narrower than a pixel stay under their markers and fill the strip to its end.
    for frame in (720, 1439):
        under = page.locator(f"#timeline [data-frame='{frame}']").bounding_box()
        mark = page.locator(f"#timeline [data-keyframe='{frame}']").bounding_box()
        assert abs((under["x"] + under["width"] / 2) - (mark["x"] + mark["width"] / 2)) < 1
    strip = page.locator("#timeline .sdvc-strip").bounding_box()
    end = page.locator("#timeline [data-frame='1439']").bounding_box()
    assert abs((strip["x"] + strip["width"]) - (end["x"] + end["width"])) < 1
    # Zoom to single cells: each frame a box of its own, one clickable.
    page.locator("#timeline .tl-zoom").fill("100")
    cell = page.locator("#timeline [data-frame='700']")
    cell.scroll_into_view_if_needed()
    assert cell.bounding_box()["width"] >= 20
    assert page.evaluate(overflow) <= 0
    cell.click()
    expect(page.locator("#frame-preview")).to_contain_text("frame 700: not rendered yet")
