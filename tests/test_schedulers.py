"""Schedulers: each one renders, renders the same frames twice, and is part of the frame key.

LCM injects fresh noise between its steps; every frame draws that noise from its own generator
seeded with one fixed seed, so a frame's pixels do not depend on the render or on the batch.
"""

import numpy as np
import pytest
from conftest import write_project
from pixels import assert_same_frame

from pipeline.backends import LocalBackend
from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.models import load_model
from pipeline.presets import PRESETS, SCHEDULER_NAMES
from pipeline.project import load_project, parse_project
from pipeline.renderer import project_frames, render_project

KEYFRAMES = [{"frame": 0, "prompt": "a red fox in the snow", "seed": 1}, {"frame": 3, "prompt": "a city", "seed": 2}]


def render(tmp_path, name: str, scheduler: str, batch_size: int = 8) -> list[np.ndarray]:
    project = load_project(write_project(tmp_path / f"{name}.json", KEYFRAMES, scheduler=scheduler, steps=2))
    store = FrameStore(tmp_path / name)
    report = render_project(project, store, LocalBackend(), batch_size=batch_size)
    assert report.rendered == 4
    return project_frames(project, store)


@pytest.mark.parametrize("scheduler", SCHEDULER_NAMES)
@pytest.mark.slow
def test_each_scheduler_renders_the_same_frames_twice(demo_model_dir, tmp_path, scheduler):
    first = render(tmp_path, "first", scheduler)
    assert all(f.shape == (64, 64, 3) and f.std() > 1 for f in first)
    assert len({f.tobytes() for f in first}) == 4
    second = render(tmp_path, "second", scheduler)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.slow
def test_lcm_step_noise_does_not_depend_on_the_batch(demo_model_dir, tmp_path):
    together = render(tmp_path, "together", "lcm", batch_size=8)
    one_by_one = render(tmp_path, "alone", "lcm", batch_size=1)
    # Rounding of batched maths aside, the same pixels: no frame took another frame's noise.
    for i, (a, b) in enumerate(zip(together, one_by_one, strict=True)):
        assert_same_frame(a, b, f"frame {i}")


@pytest.mark.slow
def test_changing_the_scheduler_rerenders_every_frame(demo_model_dir, tmp_path):
    store = FrameStore(tmp_path / "frames")
    counts = []
    for scheduler in ("euler", "lcm", "euler"):
        project = load_project(write_project(tmp_path / "p.json", KEYFRAMES, scheduler=scheduler, steps=2))
        report = render_project(project, store, LocalBackend())
        counts.append((report.rendered, report.reused))
    assert counts == [(4, 0), (4, 0), (0, 4)]  # back to euler: its frames are all still there


def test_no_stochastic_scheduler_is_offered(demo_model_dir):
    for name, pipe in load_model("demo").pipelines.items():
        scheduler = pipe.scheduler
        assert "Ancestral" not in type(scheduler).__name__, name
        assert "sde" not in scheduler.config.get("algorithm_type", ""), name
    assert {p.scheduler for p in PRESETS.values()} <= set(SCHEDULER_NAMES)
    with pytest.raises(InputError, match="scheduler must be one of euler, dpm\\+\\+2m, ddim, lcm; got 'euler_a'"):
        parse_project({"scheduler": "euler_a", "keyframes": KEYFRAMES})
