"""Candidates: a prompt row rendered from several seeds in one batch; the user picks one.

The story: generate four candidates, pick the third (its seed goes into the project, and its
frame is already in the store), re-roll, and go back to the first four for free.
"""

import re
from dataclasses import replace

import numpy as np
import pytest
from fake_backend import CountingBackend
from pixels import assert_same_frame

from pipeline.backends import LocalBackend
from pipeline.candidates import render_candidates
from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.limits import limits
from pipeline.project import MAX_SEED, Keyframe, RenderSettings
from pipeline.renderer import render_keyframe
from pipeline.timeline import keyframe_key

SETTINGS = RenderSettings("demo", 64, 64, 4, 0.0, "euler")
ROW = Keyframe(0, "a red fox in the snow", seed=5)


@pytest.fixture(scope="module")
def first_four(demo_model_dir, tmp_path_factory):
    store, backend = FrameStore(tmp_path_factory.mktemp("candidates")), CountingBackend()
    return store, backend, render_candidates(SETTINGS, ROW, 4, store, backend)


def test_candidates_are_count_distinct_images_from_consecutive_seeds_in_one_batch(first_four):
    store, backend, candidates = first_four
    assert [seed for seed, _ in candidates] == [5, 6, 7, 8]
    assert backend.batches[0] == 4  # the fixture's call, the module's first (other tests add more)
    images = [image for _, image in candidates]
    assert all(image.shape == (64, 64, 3) and image.dtype == np.uint8 for image in images)
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(images[i].astype(int) - images[j].astype(int)).mean() > 5, (i, j)
    for seed, image in candidates:
        assert np.array_equal(store.read(keyframe_key(SETTINGS, replace(ROW, seed=seed))), image)


def test_a_candidate_is_the_keyframe_with_its_seed_rendered_alone(first_four, tmp_path):
    """Batch composition changes CPU float rounding, within the renderer's documented bound."""
    _, _, candidates = first_four
    alone, conditioning = render_keyframe(SETTINGS, replace(ROW, seed=7), FrameStore(tmp_path), LocalBackend())
    assert_same_frame(alone, candidates[2][1], "seed 7 alone vs in a batch of 4")
    assert conditioning.keyframe.seed == 7


def test_picking_a_candidate_renders_nothing_more(first_four):
    store, backend, candidates = first_four
    picked = replace(ROW, seed=candidates[2][0])
    before = list(backend.batches)
    image, _ = render_keyframe(SETTINGS, picked, store, backend)
    assert backend.batches == before
    assert np.array_equal(image, candidates[2][1])


@pytest.mark.slow
def test_reroll_renders_the_next_seeds_and_keeps_the_earlier_ones(first_four):
    store, backend, first = first_four
    rerolled = render_candidates(SETTINGS, replace(ROW, seed=9), 4, store, backend)
    assert [seed for seed, _ in rerolled] == [9, 10, 11, 12]
    assert backend.batches[-1] == 4
    batches = len(backend.batches)
    again = render_candidates(SETTINGS, ROW, 4, store, backend)
    assert len(backend.batches) == batches  # going back is free
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a[1], b[1]) for a, b in zip(first, rerolled, strict=True))
    render_candidates(SETTINGS, replace(ROW, seed=7), 8, store, backend)  # 7..12 stored: only 13, 14 render
    assert backend.batches[-1] == 2


@pytest.mark.parametrize(
    ("count", "message"),
    [(0, "count must be at least 1, got 0"), (-1, "count must be at least 1, got -1")]
    + [(bad, f"count must be an integer, got {bad!r}") for bad in (2.5, True, "4", None)],
)
def test_a_count_that_is_not_a_whole_number_from_one_is_refused(count, message, tmp_path):
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        render_candidates(SETTINGS, ROW, count, FrameStore(tmp_path), LocalBackend())


def test_a_count_over_the_limit_is_refused_naming_the_limit(tmp_path):
    over = limits().max_candidates + 1
    with pytest.raises(InputError, match=rf"count must be at most {over - 1} \(SDVC_MAX_CANDIDATES\), got {over}"):
        render_candidates(SETTINGS, ROW, over, FrameStore(tmp_path), LocalBackend())


def test_seeds_past_the_largest_are_refused(tmp_path):
    with pytest.raises(InputError, match=rf"seed must be at most {MAX_SEED - 3} for 4 candidates"):
        render_candidates(SETTINGS, replace(ROW, seed=MAX_SEED - 1), 4, FrameStore(tmp_path), LocalBackend())
