"""ZeroGPU durations: handlers that render many frames ask for the seconds their work needs.

Tested without the `spaces` package (a Space has it): the duration functions take the handler's
own arguments, and `gpu_for` hands one to `spaces.GPU(duration=...)` when the package is there.
"""

import numpy as np

from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice
from pipeline.project import parse_project
from pipeline.timeline import plan_timeline


def test_render_seconds_grow_with_the_work_between_the_default_and_a_cap():
    from ui.gpu import MAX_S, MIN_S, render_seconds

    assert render_seconds(1, 1, 64, 64) == MIN_S  # never less than ZeroGPU's default
    long = render_seconds(240, 4, 512, 512)  # a 30 s interpolation of SD-turbo frames
    assert long > MIN_S and render_seconds(480, 4, 512, 512) > long and render_seconds(240, 4, 1024, 1024) > long
    assert render_seconds(10_000, 50, 1024, 1024) == MAX_S


def test_the_studio_asks_for_the_missing_frames_only(tmp_path):
    from ui import handlers
    from ui.context import AppContext
    from ui.form import SETTING_FIELDS, Form, starter_project
    from ui.gpu import render_seconds

    data = starter_project("demo") | {"width": 512, "height": 512, "steps": 4}
    rows = [{"frame": f, "prompt": p, "seed": f} for f, p in ((0, "a"), (200, "b"), (400, "c"))]
    store = FrameStore(tmp_path / "frames")
    ctx = AppContext(model=ModelChoice("demo", "demo", ""), store=store, backend=None)
    form = Form({k: data[k] for k in SETTING_FIELDS}, rows)
    assert handlers.missing_seconds(ctx, form, None) == render_seconds(401, 4, 512, 512)
    plans = plan_timeline(parse_project({**data, "keyframes": rows}))
    for plan in plans[:200]:  # rendered already: not asked for again
        store.write(plan.key, np.zeros((8, 8, 3), np.uint8))
    assert handlers.missing_seconds(ctx, form, None) == render_seconds(201, 4, 512, 512)
    bad = Form({**form.settings, "steps": 0}, rows)
    assert handlers.missing_seconds(ctx, bad, None) == render_seconds(0, 1, 64, 64)


def test_gpu_for_hands_the_duration_callable_to_spaces(monkeypatch):
    from ui import gpu

    asked = {}

    class Spaces:  # what the package's decorator receives
        @staticmethod
        def GPU(fn=None, duration=None):  # spaces.GPU, by its own name
            asked["duration"] = duration
            return lambda fn: fn

    def seconds(frames: int) -> int:
        return frames * 2

    def work(frames: int) -> int:
        return frames

    assert gpu.spaces is None  # not on a Space: nothing changes
    assert gpu.gpu_for(seconds)(work) is work
    monkeypatch.setattr(gpu, "spaces", Spaces)
    assert gpu.gpu_for(seconds)(work)(3) == 3
    assert asked["duration"] is seconds and asked["duration"](3) == 6
