"""The render core on its own (FakeBackend, no model): what it renders, encodes, writes and reports.

Every path (timeline, keyframe, candidates, /interpolate) is a planner over this one function,
so these are the guarantees all of them share.
"""

import pytest
import torch
from fake_backend import FakeBackend

from pipeline.conditioning import Conditioning
from pipeline.frame_recipe import FrameRecipe, KeyframeInput, TensorInput, keyframe_recipe, plan_frame
from pipeline.frame_store import FrameStore
from pipeline.project import Keyframe, RenderSettings
from pipeline.renderer import render_frames, run_render

SETTINGS = RenderSettings("demo", 64, 64, 4, 0.0, "euler")
FOX, CITY = Keyframe(0, "a fox", seed=1), Keyframe(9, "a city", seed=2)


class CountingEncodes(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[int] = []  # seeds, in the order encoded

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> Conditioning:
        self.encoded.append(keyframe.seed)
        return super().encode(settings, keyframe)


def between(t: float, start: Keyframe = FOX, end: Keyframe = CITY):
    return plan_frame(FrameRecipe(SETTINGS, KeyframeInput(start), KeyframeInput(end), t, "lerp"))


def test_each_missing_key_is_rendered_once_and_each_keyframe_encoded_once(tmp_path):
    store, backend = FrameStore(tmp_path), CountingEncodes()
    frames = [plan_frame(keyframe_recipe(SETTINGS, FOX)), *(between(i / 8) for i in range(1, 8)), between(1.0)]
    frames += frames[2:4]  # the same keys planned twice: rendered once, counted as planned
    steps = list(render_frames(frames, store, backend, batch_size=3))
    assert [s.done for s in steps] == [3, 6, 9] and [s.finished for s in steps] == [False, False, True]
    assert (steps[-1].report.frames_total, steps[-1].report.rendered, steps[-1].report.reused) == (11, 9, 2)
    assert backend.encoded == [1, 2] and backend.rendered == 9
    assert all(store.has(f.key) for f in frames)
    assert frames[-3].key == plan_frame(keyframe_recipe(SETTINGS, CITY)).key  # t = 1 is the end keyframe's frame

    # Again: nothing missing, so nothing is encoded or rendered.
    report = run_render(render_frames(frames, store, backend))
    assert (report.rendered, report.reused, backend.encoded, backend.rendered) == (0, 11, [1, 2], 9)


def test_keyframes_and_loaded_conditionings_render_in_one_call(tmp_path):
    store, backend = FrameStore(tmp_path), CountingEncodes()
    loaded = TensorInput(backend.encode(SETTINGS, Keyframe(0, "from a file", seed=7)))
    backend.encoded.clear()
    mixed = plan_frame(FrameRecipe(SETTINGS, loaded, KeyframeInput(CITY), 0.5, "lerp", (("kind", "inbetween"),)))
    assert run_render(render_frames([mixed], store, backend)).rendered == 1
    assert backend.encoded == [2]  # the file's conditioning is used as it is
    assert mixed.key != between(0.5).key


def test_a_render_takes_frames_of_one_settings(tmp_path):
    other = plan_frame(keyframe_recipe(RenderSettings("demo", 64, 64, 2, 0.0, "euler"), FOX))
    with pytest.raises(ValueError, match="one RenderSettings"):
        list(render_frames([between(0.5), other], FrameStore(tmp_path), FakeBackend()))


def test_a_tag_may_not_overwrite_a_key_field():
    with pytest.raises(ValueError, match=r"tags \['t'\]"):
        FrameRecipe(SETTINGS, KeyframeInput(FOX), KeyframeInput(CITY), 0.5, "lerp", (("t", "0.9"),))


def test_a_loaded_conditioning_is_known_by_its_tensors_not_its_metadata():
    tensors = {"prompt_embeds": torch.zeros(1, 77, 8), "latents": torch.ones(1, 4, 8, 8)}
    a, b = TensorInput(Conditioning(tensors, {"prompt": "a fox"})), TensorInput(Conditioning(tensors, {}))
    assert a.key_part() == b.key_part()
    changed = TensorInput(Conditioning({**tensors, "latents": torch.full((1, 4, 8, 8), 2.0)}, {}))
    assert changed.key_part() != a.key_part()
