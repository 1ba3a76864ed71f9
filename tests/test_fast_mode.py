"""Fast mode (pipeline/feature_reuse.py): deep UNet features reused between steps, under its own keys.

The story: render a 12-step project exact, then `--fast`: every frame renders again (other keys),
its pixels close to the exact ones (at least FAST_MIN_PSNR dB on the demo model; measured there:
about 42 dB at 12 steps, 46 at 25), then nothing renders again, fast or exact. Keys of projects
without `"fast"` (or with false) are those they always were; below MIN_FAST_STEPS fast mode renders
exact, under the exact keys, with a notice.
"""

import json

import numpy as np
import pytest
from cli import main_json, run_main
from conftest import write_project

from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.project import MIN_FAST_STEPS, load_project, parse_project
from pipeline.safetensors_file import settings_from_metadata, settings_metadata
from pipeline.timeline import plan_timeline

FAST_MIN_PSNR = 35.0  # dB, fast against exact frames of the demo model at 12 steps (measured: 40.7-42.5)
STEPS = 12
KEYFRAMES = [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 4, "prompt": "a city", "seed": 2}]


def _project(**fields):
    return parse_project({"model": "demo", "width": 64, "height": 64, "keyframes": KEYFRAMES, **fields})


def _keys(project) -> list[str]:
    return [plan.key for plan in plan_timeline(project)]


def test_keys_are_unchanged_without_fast_or_with_false_and_apart_with_true():
    exact = _keys(_project(steps=STEPS))
    assert _keys(_project(steps=STEPS, fast=False)) == exact
    fast = _keys(_project(steps=STEPS, fast=True))
    assert not set(fast) & set(exact) and len(set(fast)) == len(exact)


def test_below_the_steps_fast_mode_renders_exact_under_exact_keys_with_a_notice():
    few = _project(steps=MIN_FAST_STEPS - 1, fast=True)
    assert not few.settings.reuses_features
    assert _keys(few) == _keys(_project(steps=MIN_FAST_STEPS - 1))
    assert few.settings.fast_notice == (
        f"fast mode reuses features from {MIN_FAST_STEPS} steps on: with {MIN_FAST_STEPS - 1}, frames render exact"
    )
    assert _project(steps=MIN_FAST_STEPS, fast=True).settings.fast_notice == ""


@pytest.mark.parametrize("value", ["yes", 3, 1, 0, None, "true"])
def test_fast_is_true_or_false(value):
    with pytest.raises(InputError, match=r"^fast must be true or false, got "):
        _project(steps=STEPS, fast=value)


def test_a_project_file_keeps_fast_only_when_on():
    assert "fast" not in _project(steps=STEPS).to_json()
    data = _project(steps=STEPS, fast=True).to_json()
    assert data["fast"] is True
    assert parse_project(data).settings.fast


def test_a_fast_batch_for_a_remote_carries_fast_and_a_bad_one_is_refused():
    settings = _project(steps=STEPS, fast=True).settings
    assert settings_from_metadata(settings_metadata(settings, "f"), "batch") == settings
    exact = _project(steps=STEPS).settings
    assert "fast" not in settings_metadata(exact, "f")  # files of exact frames stay as they were
    with pytest.raises(InputError, match="batch: metadata fast must be 'true' when present; got 'yes'"):
        settings_from_metadata({**settings_metadata(exact, "f"), "fast": "yes"}, "batch")


@pytest.fixture(scope="module")
def unet_call(demo_model_dir):
    """A UNet call's inputs on the demo model, with guidance's batch of two."""
    import torch

    from pipeline.models import load_model

    pipe = load_model("demo").pipe
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(2, 4, 8, 8, generator=generator)
    text = torch.randn(2, 77, pipe.text_encoder.config.hidden_size, generator=generator)
    return pipe, sample, text


def _steps(unet, sample, text, timesteps=(999, 800, 600, 400)):
    import torch

    with torch.inference_mode():
        return [unet(sample, t, encoder_hidden_states=text, return_dict=False)[0] for t in timesteps]


def test_reuse_every_step_is_the_unet_bit_for_bit_and_the_shared_unet_stays_as_it_was(unet_call):
    from diffusers import UNet2DConditionModel

    from pipeline.feature_reuse import FeatureReuseUNet

    pipe, sample, text = unet_call
    exact = _steps(pipe.unet, sample, text)
    assert all(a.equal(b) for a, b in zip(_steps(FeatureReuseUNet(pipe.unet, 1), sample, text), exact, strict=True))
    reused = _steps(FeatureReuseUNet(pipe.unet, 3), sample, text)
    assert reused[0].equal(exact[0]) and reused[3].equal(exact[3])  # full steps
    assert not reused[1].equal(exact[1]) and not reused[2].equal(exact[2])  # shallow ones
    assert "forward" not in vars(pipe.unet) and type(pipe.unet) is UNet2DConditionModel  # nothing patched
    assert all(a.equal(b) for a, b in zip(_steps(pipe.unet, sample, text), exact, strict=True))


def test_two_fast_calls_interleaved_each_get_their_own_features(unet_call):
    import torch

    from pipeline.feature_reuse import FeatureReuseUNet

    pipe, sample, text = unet_call
    other = sample.flip(0)
    alone = _steps(FeatureReuseUNet(pipe.unet), sample, text)
    first, second = FeatureReuseUNet(pipe.unet), FeatureReuseUNet(pipe.unet)
    with torch.inference_mode():
        for t, expected in zip((999, 800, 600, 400), alone, strict=True):
            assert first(sample, t, encoder_hidden_states=text, return_dict=False)[0].equal(expected)
            second(other, t, encoder_hidden_states=text, return_dict=False)  # another user's render between


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float(10 * np.log10(255**2 / error))


def test_fast_story_on_the_command_line(capsys, tmp_path, demo_model_dir):
    project_file = write_project(tmp_path / "p.json", KEYFRAMES, steps=STEPS)
    cache, video = tmp_path / "cache", tmp_path / "v.mp4"

    def render(*flags: str) -> dict:
        return main_json(capsys, "render", project_file, "--out", video, "--cache", cache, *flags)

    # 1. Exact, then fast: every frame again, under other keys; then nothing, fast or exact.
    assert render()["rendered"] == 5
    assert render("--fast")["rendered"] == 5
    assert render("--fast")["rendered"] == 0
    assert render()["rendered"] == 0
    assert main_json(capsys, "status", project_file, "--cache", cache, "--fast")["rendered"] == 5
    # 2. The project's own "fast": true is --fast: the same frames.
    write_project(project_file, KEYFRAMES, steps=STEPS, fast=True)
    assert render()["rendered"] == 0
    # 3. Fast pixels differ from the exact ones, within the bound.
    fast = load_project(project_file)
    store = FrameStore(cache)
    for exact_plan, fast_plan in zip(plan_timeline(_project(steps=STEPS)), plan_timeline(fast), strict=True):
        exact_frame, fast_frame = store.read(exact_plan.key), store.read(fast_plan.key)
        assert not np.array_equal(exact_frame, fast_frame)
        assert _psnr(exact_frame, fast_frame) >= FAST_MIN_PSNR


def test_fast_with_few_steps_says_it_renders_exact(capsys, tmp_path, demo_model_dir):
    project_file = write_project(tmp_path / "p.json", KEYFRAMES, steps=2)
    cache, video = tmp_path / "cache", tmp_path / "v.mp4"
    assert main_json(capsys, "render", project_file, "--out", video, "--cache", cache)["rendered"] == 5
    code, out, err = run_main(capsys, "render", project_file, "--out", video, "--cache", cache, "--fast", "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["rendered"] == 0
    assert "note: fast mode reuses features from 8 steps on: with 2, frames render exact" in err


def test_a_bad_fast_field_is_one_line_naming_it(capsys, tmp_path):
    project_file = write_project(tmp_path / "p.json", KEYFRAMES, fast="yes")
    code, _, err = run_main(capsys, "status", project_file)
    assert (code, err) == (2, "error: fast must be true or false, got 'yes'\n")


def test_the_studio_loads_and_renders_fast_as_a_project_setting(tmp_path):
    from pipeline.model_choice import ModelChoice
    from ui import handlers
    from ui.context import AppContext
    from ui.form import SETTING_FIELDS, Form

    ctx = AppContext(model=ModelChoice("demo", "demo", ""), store=FrameStore(tmp_path / "frames"), backend=None)
    for fast in (True, False):
        project_file = write_project(tmp_path / "p.json", KEYFRAMES, steps=STEPS, **({"fast": True} if fast else {}))
        update = handlers.open_project(ctx, str(project_file), {"id": "0" * 32})
        assert update.settings["fast"] is fast  # the Advanced checkbox shows the project's
        form = Form({k: update.settings[k] for k in SETTING_FIELDS}, update.rows, update.session)
        assert form.project().settings.reuses_features is fast
