"""The demo model: a tiny Stable Diffusion with random weights, built here, never downloaded.

It has the real architecture (CLIP text encoder and tokenizer, UNet, VAE with the usual
8x downscale) at toy widths, so it runs the same code path as a real model in seconds on a
CPU. Its pictures are noise-like. It is built deterministically once, saved in diffusers format
under the user cache, and from then on loaded with `from_pretrained` like any model folder.
Its parts (byte-level tokenizer, tiny text encoder config, VAE, scheduler) are public so tests
build other tiny models, such as an SDXL, the same way.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

from .presets import DEMO_VERSION, cache_root

_SEED = 20261125
_TEXT_DIM = 32  # CLIP hidden size; also the UNet's cross-attention width


def demo_model_dir() -> Path:
    """The demo model's folder, built on first use."""
    folder = cache_root() / "models" / DEMO_VERSION
    if not (folder / "model_index.json").exists():
        build_model_folder(folder, build_demo_pipeline)
    return folder


def byte_level_tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP tokenizer whose tokens are single bytes (no merges); its vocab.json and merges.txt go into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=77)


def build_model_folder(folder: Path, build_pipeline: Callable[[CLIPTokenizer], StableDiffusionPipeline]) -> None:
    """Save build_pipeline(byte-level tokenizer) as a diffusers folder, atomically.

    The tokenizer folder keeps the slow tokenizer's vocab.json and merges.txt beside
    tokenizer.json, so older transformers (and tools built on them) load it too.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".building-") as tmp:
        build_dir = Path(tmp) / "model"
        build_dir.mkdir()
        pipe = build_pipeline(byte_level_tokenizer(build_dir / "tokenizer"))
        pipe.save_pretrained(build_dir)
        try:
            os.replace(build_dir, folder)
        except OSError:  # another process finished first: theirs is identical
            if not (folder / "model_index.json").exists():
                raise
        shutil.rmtree(tmp, ignore_errors=True)


def build_demo_pipeline(tokenizer: CLIPTokenizer) -> StableDiffusionPipeline:
    """The tiny random-weight pipeline, the same every time."""
    torch.manual_seed(_SEED)  # the order of the constructors below decides the weights
    text_encoder = CLIPTextModel(tiny_text_config(tokenizer))
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=_TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=16,
    )
    vae = tiny_vae()
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=demo_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def tiny_text_config(tokenizer: CLIPTokenizer, **overrides) -> CLIPTextConfig:
    """A two-layer CLIP text encoder's config for a tokenizer; overrides set e.g. projection_dim."""
    return CLIPTextConfig(
        hidden_size=_TEXT_DIM,
        intermediate_size=64,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **overrides,
    )


def tiny_vae() -> AutoencoderKL:
    """A four-level VAE at toy widths: the usual 8x latent downscale, 4 latent channels."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=16,
        sample_size=64,
    )


def demo_scheduler() -> EulerDiscreteScheduler:
    """The SD noise schedule, trailing timesteps (few-step sampling starts from pure noise)."""
    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
