"""Keyframe conditioning on the demo model: what it holds, the .safetensors round trip, hostile files."""

import dataclasses

import pytest
import torch
from safetensors.torch import save_file

from pipeline.backends import LocalBackend
from pipeline.conditioning import NOISE, blend, load_conditioning, save_conditioning
from pipeline.conditioning_fit import check_pair
from pipeline.errors import InputError
from pipeline.project import Keyframe, RenderSettings

SETTINGS = RenderSettings(model="demo", width=64, height=64, steps=4, guidance=0.0, scheduler="euler")
FOX = Keyframe(frame=0, prompt="a red fox in the snow", style="watercolor", seed=1)
CITY = Keyframe(frame=7, prompt="a city at night", seed=2)


@pytest.fixture(scope="module")
def fox(demo_model_dir):
    return LocalBackend().encode(SETTINGS, FOX)


def test_a_keyframe_encodes_to_embeddings_and_seed_noise(fox):
    assert set(fox.tensors) == {"prompt_embeds", NOISE}  # guidance 0: no negative pass
    assert fox.tensors[NOISE].shape == (1, 4, 8, 8)  # 64 px / vae_scale_factor 8
    assert fox.tensors["prompt_embeds"].shape == (1, 77, 32)
    assert fox.settings == SETTINGS
    assert fox.keyframe == dataclasses.replace(FOX, frame=0)
    guided = LocalBackend().encode(dataclasses.replace(SETTINGS, guidance=7.5), FOX)
    assert set(guided.tensors) == {"prompt_embeds", "negative_prompt_embeds", NOISE}
    assert torch.equal(guided.tensors[NOISE], fox.tensors[NOISE])  # the seed alone decides the noise


def test_save_and_load_keep_every_tensor_and_the_metadata(fox, tmp_path):
    loaded = load_conditioning(save_conditioning(fox, tmp_path / "fox.safetensors"))
    assert loaded.metadata == fox.metadata
    assert {"model": "demo", "width": "64", "prompt": FOX.prompt, "seed": "1"}.items() <= loaded.metadata.items()
    assert loaded.tensors.keys() == fox.tensors.keys()
    for name, tensor in fox.tensors.items():
        assert torch.equal(loaded.tensors[name], tensor), name


def test_blend_ends_are_the_keyframes_exactly(fox, demo_model_dir):
    city = LocalBackend().encode(SETTINGS, CITY)
    for interpolation in ("lerp", "slerp"):
        for t, end in ((0.0, fox), (1.0, city)):
            mixed = blend(fox, city, t, interpolation)
            assert all(torch.equal(mixed[name], end.tensors[name]) for name in end.tensors)


def test_a_text_file_posing_as_safetensors_is_refused(tmp_path):
    path = tmp_path / "fox.safetensors"
    path.write_text("definitely a conditioning file")
    with pytest.raises(InputError, match=r"^fox\.safetensors: not a valid \.safetensors file"):
        load_conditioning(path)


def test_a_safetensors_file_of_another_format_is_refused(fox, tmp_path):
    path = tmp_path / "other.safetensors"
    save_file(fox.tensors, str(path), metadata={**fox.metadata, "format": "someone-else/v1"})
    with pytest.raises(InputError, match="not a conditioning file made by SD Video Creator"):
        load_conditioning(path)


def test_nan_tensors_are_refused(fox, tmp_path):
    noise = fox.tensors[NOISE].clone()
    noise[0, 0, 0, 0] = float("nan")
    path = tmp_path / "nan.safetensors"
    save_file({**fox.tensors, NOISE: noise}, str(path), metadata=fox.metadata)
    with pytest.raises(InputError, match="tensor latents holds NaN or infinite values"):
        load_conditioning(path)


def test_half_precision_and_wrong_sizes_are_refused(fox, tmp_path):
    path = tmp_path / "bad.safetensors"
    save_file({**fox.tensors, NOISE: fox.tensors[NOISE].half()}, str(path), metadata=fox.metadata)
    with pytest.raises(InputError, match=r"tensor latents is torch\.float16, expected torch\.float32"):
        load_conditioning(path)
    save_file(fox.tensors, str(path), metadata={**fox.metadata, "width": "128"})
    with pytest.raises(InputError, match="latents of 8x8 do not fit the metadata size 128x64"):
        load_conditioning(path)


def test_conditionings_from_other_settings_cannot_be_paired(fox, tmp_path):
    other = LocalBackend().encode(dataclasses.replace(SETTINGS, steps=8), CITY)
    with pytest.raises(InputError, match=r"differ in settings: steps 4 vs 8$"):
        check_pair(fox, load_conditioning(save_conditioning(other, tmp_path / "city.safetensors")))
    check_pair(fox, LocalBackend().encode(SETTINGS, CITY))  # same settings: fine
