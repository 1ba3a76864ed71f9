"""Any folder holding a diffusers SD or SDXL pipeline works as a project's model.

A tiny random SDXL (two CLIP text encoders, the second with a projection; a UNet with SDXL's
text_time addition embedding) is built once per session in a temporary folder outside the
project, from the demo model's parts, and runs the whole story through the CLI: render,
render again (nothing), edit one keyframe (only its two segments), frames deterministic.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from cli import cli_json
from conftest import write_project
from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
from pixels import assert_same_frame
from transformers import CLIPTextModel, CLIPTextModelWithProjection

from pipeline.backends import LocalBackend
from pipeline.conditioning import TIME_IDS, blend, load_conditioning, save_conditioning
from pipeline.conditioning_fit import check_for_model
from pipeline.demo_model import byte_level_tokenizer, demo_scheduler, tiny_text_config, tiny_vae
from pipeline.errors import InputError, ModelLoadError
from pipeline.frame_store import FrameStore
from pipeline.models import load_model
from pipeline.project import load_project
from pipeline.renderer import project_frames, render_project
from pipeline.timeline import plan_timeline

POOLED_DIM = 24  # unlike the text width (32), so a mix-up of the two shows


@pytest.fixture(scope="session")
def tiny_sdxl_dir(tmp_path_factory) -> Path:
    """A random-weight SDXL pipeline saved in diffusers format, 64x64 frames in 8x8 latents."""
    folder = tmp_path_factory.mktemp("tiny-sdxl")
    tokenizer = byte_level_tokenizer(folder / "tokenizer")
    torch.manual_seed(7)
    text_encoder = CLIPTextModel(tiny_text_config(tokenizer))
    text_encoder_2 = CLIPTextModelWithProjection(tiny_text_config(tokenizer, projection_dim=POOLED_DIM))
    time_embed_dim = 8
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=2 * text_encoder.config.hidden_size,  # both encoders' hidden states, concatenated
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=time_embed_dim,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * time_embed_dim + POOLED_DIM,  # 6 time ids + pooled text
        norm_num_groups=16,
    )
    pipe = StableDiffusionXLPipeline(
        vae=tiny_vae(),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=demo_scheduler(),
        add_watermarker=False,
    )
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def sd_folder(demo_model_dir, tmp_path_factory) -> Path:
    """A Stable Diffusion 1.x folder that is not the demo model (its files copied elsewhere)."""
    return Path(shutil.copytree(demo_model_dir, tmp_path_factory.mktemp("sd-folder") / "model"))


def cli_render(project: Path, cache: Path, *extra: str) -> dict:
    return cli_json("render", project, "--out", project.with_suffix(".mp4"), "--cache", cache, *extra, timeout=600)


def frames_on_disk(project_file: Path, cache: Path) -> list[np.ndarray]:
    store = FrameStore(cache)
    return [store.read(plan.key) for plan in plan_timeline(load_project(project_file))]


@pytest.mark.slow
def test_tiny_sdxl_project_renders_only_what_changed(tiny_sdxl_dir, tmp_path):
    keyframes = [
        {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
        {"frame": 3, "prompt": "a city at night", "seed": 2},
        {"frame": 6, "prompt": "a quiet lake", "seed": 3},
    ]
    xl = {"model": str(tiny_sdxl_dir), "scheduler": "euler", "steps": 2}
    project = write_project(tmp_path / "xl.json", keyframes, **xl)
    cache = tmp_path / "frames"

    first = cli_render(project, cache)
    assert (first["frames_total"], first["rendered"], first["reused"]) == (7, 7, 0)
    assert Path(first["video"]).stat().st_size > 0
    frames = frames_on_disk(project, cache)
    assert all(f.shape == (64, 64, 3) for f in frames)
    assert len({f.tobytes() for f in frames}) == 7  # every in-between differs

    again = cli_render(project, cache)
    assert (again["rendered"], again["reused"]) == (0, 7)

    keyframes[1]["prompt"] = "a city at dawn"
    write_project(project, keyframes, **xl)
    edited = cli_render(project, cache)
    assert (edited["rendered"], edited["reused"]) == (5, 2)  # frames 1-5: the edited keyframe's two segments
    new_frames = frames_on_disk(project, cache)
    changed = [not np.array_equal(a, b) for a, b in zip(frames, new_frames, strict=True)]
    assert changed == [False, True, True, True, True, True, False]

    # Rendered afresh twice: bit-identical frames; and the CLI's up to rounding (it batched them otherwise).
    fresh = []
    for name in ("fresh", "fresh-again"):
        assert render_project(load_project(project), FrameStore(tmp_path / name), LocalBackend()).rendered == 7
        fresh.append(frames_on_disk(project, tmp_path / name))
    assert all(np.array_equal(a, b) for a, b in zip(*fresh, strict=True))
    for i, (a, b) in enumerate(zip(new_frames, fresh[0], strict=True)):
        assert_same_frame(a, b, f"frame {i}")


@pytest.mark.slow
def test_sdxl_conditioning_carries_pooled_and_size_conditioning(tiny_sdxl_dir, tmp_path):
    project = load_project(
        write_project(
            tmp_path / "p.json",
            [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 2, "prompt": "a city", "seed": 2}],
            model=str(tiny_sdxl_dir),
            width=64,
            height=80,
            steps=2,
            guidance=2.0,
        )
    )
    backend = LocalBackend()
    a, b = (backend.encode(project.settings, k) for k in project.keyframes)
    assert a.tensors["pooled_prompt_embeds"].shape == (1, POOLED_DIM)
    assert a.tensors["negative_pooled_prompt_embeds"].shape == (1, POOLED_DIM)
    assert a.tensors[TIME_IDS].tolist() == [[80, 64, 0, 0, 80, 64]]  # (h, w), crop (y, x), target (h, w)

    loaded = load_conditioning(save_conditioning(a, tmp_path / "a.safetensors"))
    assert set(loaded.tensors) == set(a.tensors)
    check_for_model(loaded, load_model(str(tiny_sdxl_dir)), "a.safetensors")

    halfway = blend(a, b, 0.5, "lerp")
    for pooled in ("pooled_prompt_embeds", "negative_pooled_prompt_embeds"):
        assert torch.allclose(halfway[pooled], (a.tensors[pooled] + b.tensors[pooled]) / 2)
    # Size conditioning is interpolated like the rest: halfway between two original sizes.
    b.tensors[TIME_IDS] = torch.tensor([[160.0, 128.0, 8.0, 0.0, 80.0, 64.0]])
    assert blend(a, b, 0.5, "slerp")[TIME_IDS].tolist() == [[120.0, 96.0, 4.0, 0.0, 80.0, 64.0]]
    # Frames of one batch whose size conditioning differs are each rendered with their own.
    resized = {**a.tensors, TIME_IDS: b.tensors[TIME_IDS]}
    together = backend.render(project.settings, [a.tensors, resized])
    assert np.array_equal(together[0], backend.render(project.settings, [a.tensors])[0])
    assert np.abs(together[0].astype(int) - together[1]).max() > 2


def test_hostile_sdxl_conditioning_is_refused(tiny_sdxl_dir, demo_model_dir, tmp_path):
    settings = load_project(
        write_project(tmp_path / "p.json", [{"frame": 0, "prompt": "a fox", "seed": 1}], model=str(tiny_sdxl_dir))
    ).settings
    good = LocalBackend().encode(settings, load_project(tmp_path / "p.json").keyframes[0])

    def saved(name: str, **changes) -> Path:
        tensors = {k: v for k, v in {**good.tensors, **changes}.items() if v is not None}
        return save_conditioning(type(good)(tensors, good.metadata), tmp_path / name)

    cases = {
        "no-time-ids.safetensors": ({TIME_IDS: None}, "expected"),
        "nan-size.safetensors": ({TIME_IDS: torch.tensor([[float("nan")] * 6])}, "NaN"),
        "negative-size.safetensors": ({TIME_IDS: torch.tensor([[-64.0, 64, 0, 0, 64, 64]])}, "sizes between 1"),
        "huge-crop.safetensors": ({TIME_IDS: torch.tensor([[64.0, 64, 1e9, 0, 64, 64]])}, "crops between 0"),
        "long-time-ids.safetensors": ({TIME_IDS: torch.zeros(1, 7)}, r"shape \(1, 6\)"),
        "3d-pooled.safetensors": ({"pooled_prompt_embeds": torch.zeros(1, 2, POOLED_DIM)}, "2-D"),
    }
    for name, (changes, message) in cases.items():
        with pytest.raises(InputError, match=message) as caught:
            load_conditioning(saved(name, **changes))
        assert name in str(caught.value)

    narrow = load_conditioning(saved("narrow.safetensors", pooled_prompt_embeds=torch.zeros(1, 8)))
    with pytest.raises(InputError, match="pooled_prompt_embeds width 8"):
        check_for_model(narrow, load_model(str(tiny_sdxl_dir)), "narrow.safetensors")
    # An SDXL conditioning claiming to be from an SD 1.x model is refused by that model.
    claims_demo = type(good)(good.tensors, {**good.metadata, "model": "demo"})
    with pytest.raises(InputError, match=r"do not fit a Stable Diffusion 1\.x/2\.x model"):
        check_for_model(claims_demo, load_model("demo"), "claims-demo.safetensors")


@pytest.mark.slow
def test_sd_folder_renders_as_a_model(sd_folder, tmp_path):
    keyframes = [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 2, "prompt": "a city", "seed": 2}]
    project = load_project(write_project(tmp_path / "sd.json", keyframes, model=str(sd_folder)))
    store = FrameStore(tmp_path / "frames")
    report = render_project(project, store, LocalBackend())
    assert (report.frames_total, report.rendered) == (3, 3)
    assert not load_model(str(sd_folder)).is_sdxl
    frames = project_frames(project, store)
    assert frames[0].shape == (64, 64, 3) and not np.array_equal(frames[0], frames[1])


def test_a_folder_without_a_text_to_image_pipeline_is_refused(tmp_path):
    refiner = tmp_path / "refiner"
    refiner.mkdir()
    (refiner / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionXLImg2ImgPipeline"}))
    with pytest.raises(ModelLoadError, match="holds a StableDiffusionXLImg2ImgPipeline pipeline, not a text-to-image"):
        load_model(str(refiner))
