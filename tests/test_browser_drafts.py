"""Drafts in the studio: toggle Draft, interpolate, see the draft hue; Render final turns them green."""

import pytest
from browser import RENDER_TIMEOUT_MS, needs_chromium, prompt_box, wait_for_states
from playwright.sync_api import Page, expect

pytestmark = [needs_chromium, pytest.mark.slow]


def states(page: Page) -> list[str]:
    return page.eval_on_selector_all("#timeline .sdvc-cell", "cells => cells.map(c => c.dataset.state)")


def test_draft_then_render_final(page: Page):
    # 1. Two keyframes of the starter project, generated.
    prompt_box(page, 0).fill("a lantern in the fog")
    prompt_box(page, 1).fill("a harbour at dawn")
    prompt_box(page, 1).blur()
    page.locator("#generate").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#timeline .sdvc-cell[data-state=keyframe]').length >= 2",
        timeout=RENDER_TIMEOUT_MS,
    )
    before = states(page)
    assert "missing" in before
    # 2. Draft on, Interpolate: every in-between is a draft, in its own hue.
    page.locator("#draft input").check()
    page.locator("#interpolate").click()
    wait_for_states(page, ["draft" if s == "missing" else s for s in before])
    expect(page.locator("#status")).to_contain_text("(drafts)")
    drafted = before.index("missing")
    cell = f"#timeline .sdvc-cell[data-frame='{drafted}']"
    assert (
        page.eval_on_selector(cell, "c => getComputedStyle(c).backgroundColor") == "rgb(163, 230, 53)"
    )  # the draft hue (ui/assets/timeline.css)
    # 3. Render final: the finals replace them, green.
    page.locator("#render-final").click()
    wait_for_states(page, ["rendered" if s == "missing" else s for s in before])
    assert page.eval_on_selector(cell, "c => getComputedStyle(c).backgroundColor") == "rgb(34, 197, 94)"
