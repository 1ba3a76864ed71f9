"""The renderer on the demo model, in this process: segments, determinism, keyframe frames, stale state."""

import dataclasses

import numpy as np
import pytest
from fake_backend import CountingBackend
from pixels import assert_same_frame

from pipeline.backends import LocalBackend
from pipeline.frame_store import FrameStore
from pipeline.project import parse_project
from pipeline.renderer import iter_render, render_keyframe, render_project
from pipeline.timeline import FrameState, keyframe_key, plan_timeline

KEYFRAMES = [
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
    {"frame": 7, "prompt": "a city at night", "seed": 2},
    {"frame": 19, "prompt": "a quiet lake", "style": "watercolor", "seed": 3},
]
PROJECT = parse_project({"model": "demo", "width": 64, "height": 64, "steps": 2, "keyframes": KEYFRAMES})


@pytest.fixture(scope="module")
def rendered(demo_model_dir, tmp_path_factory) -> FrameStore:
    """The whole project rendered once, in batches of 8."""
    store = FrameStore(tmp_path_factory.mktemp("rendered"))
    assert render_project(PROJECT, store, LocalBackend()).rendered == 20
    return store


def stored_keys(store: FrameStore) -> set[str]:
    return {path.stem for path in store.root.glob("*/*.png")}


@pytest.mark.slow
def test_rendering_one_segment_renders_its_frames_only(demo_model_dir, tmp_path):
    store, plans = FrameStore(tmp_path), plan_timeline(PROJECT)
    steps = list(iter_render(PROJECT, store, LocalBackend(), segments={1}, batch_size=4))
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    assert (steps[-1].done, steps[-1].total) == (13, 13)
    assert steps[-1].report.frames_total == 13
    assert stored_keys(store) == {p.key for p in plans[7:20]}  # frames 7-19: both its keyframes

    report = render_project(PROJECT, store, LocalBackend(), segments={0})
    assert (report.frames_total, report.rendered, report.reused) == (8, 7, 1)  # frame 7 is shared
    assert stored_keys(store) == {p.key for p in plans}
    assert render_project(PROJECT, store, LocalBackend()).rendered == 0


@pytest.mark.slow
def test_the_same_project_in_two_fresh_caches_gives_identical_frames(rendered, tmp_path):
    again = FrameStore(tmp_path)
    render_project(PROJECT, again, LocalBackend())
    assert stored_keys(again) == stored_keys(rendered)
    for key in stored_keys(rendered):
        assert rendered.path(key).read_bytes() == again.path(key).read_bytes(), key
        assert np.array_equal(rendered.read(key), again.read(key)), key


@pytest.mark.slow
def test_a_keyframes_frame_is_the_image_render_keyframe_gives(rendered, tmp_path):
    plans, settings = plan_timeline(PROJECT), PROJECT.settings
    for keyframe in PROJECT.keyframes:
        plan = plans[keyframe.frame]
        assert plan.is_keyframe and plan.key == keyframe_key(settings, keyframe)
        # From the rendered timeline's store: the very same frame, nothing rendered.
        backend = CountingBackend()
        image, conditioning = render_keyframe(settings, keyframe, rendered, backend)
        assert backend.frames_rendered == 0
        assert np.array_equal(image, rendered.read(plan.key))
        assert conditioning.metadata["prompt"] == keyframe.prompt
        # Rendered alone in a fresh store (another batching than the timeline's): the same picture,
        # up to the rounding the renderer documents.
        image, _ = render_keyframe(settings, keyframe, FrameStore(tmp_path / str(keyframe.frame)), backend)
        assert backend.frames_rendered == 1
        assert_same_frame(image, rendered.read(plan.key), f"keyframe {keyframe.frame}")


def test_a_second_project_file_sharing_the_store_sees_stale_frames_after_an_edit(rendered, tmp_path):
    store = FrameStore(tmp_path)
    for key in stored_keys(rendered):  # a store where another project rendered these frames
        store.write(key, rendered.read(key))
    assert render_project(PROJECT, store, LocalBackend(), project_id="copy").rendered == 0
    edited = dataclasses.replace(
        PROJECT,
        keyframes=(PROJECT.keyframes[0], dataclasses.replace(PROJECT.keyframes[1], seed=9), PROJECT.keyframes[2]),
    )
    states = store.states(plan_timeline(edited), "copy")
    assert states == [FrameState.KEYFRAME] + [FrameState.STALE] * 18 + [FrameState.KEYFRAME]
