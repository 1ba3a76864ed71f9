"""Random-weight models for the benchmark, built from fixed configs: nothing is downloaded.

Weights do not change speed, so the benchmark builds its own models. Each size also fixes the
frame size and steps the benchmark renders at:

    demo   the project's tiny demo model (smoke tests of the benchmark itself)
    small  a mid-size SD for CPU runs: SD 1.5's shape at a fifth of its width, about 10x the
           demo model's compute per frame at the same frame size
    real   the full SD 1.5 architecture (UNet ~860M, CLIP ViT-L/14 text encoder, SD VAE), for a GPU

A built model is saved once as a diffusers folder in the cache (tokenizer with vocab.json and
merges.txt, see pipeline/demo_model.py), so the project's own load path and other tools (the peer) load
the very same folder.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ..presets import DEMO, cache_root

BENCH_VERSION = "v1"  # bump when a config below changes
_SEED = 20261126
_CROSS = "CrossAttnDownBlock2D", "CrossAttnUpBlock2D"


@dataclass(frozen=True)
class BenchSize:
    name: str
    width: int  # frame size the benchmark renders at
    height: int
    steps: int  # sd-turbo class (its preset: 2 steps), no guidance
    inbetweens: int  # in-between frames in the throughput and batch-scaling runs
    repeats: int  # repeats of each timed run; the median is reported
    walk_frames: int  # frames of the two-keyframe walk (whole CLI process, and the peer)
    text: dict = field(default_factory=dict)  # CLIPTextConfig arguments
    unet: dict = field(default_factory=dict)  # UNet2DConditionModel arguments
    vae: dict = field(default_factory=dict)  # AutoencoderKL arguments
    fp16_weights: bool = False  # save in fp16: halves the folder of the 1 B-parameter model


_SD_UNET_BLOCKS = {
    "down_block_types": (_CROSS[0], _CROSS[0], _CROSS[0], "DownBlock2D"),
    "up_block_types": ("UpBlock2D", _CROSS[1], _CROSS[1], _CROSS[1]),
    "layers_per_block": 2,
}
_SD_VAE_BLOCKS = {
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "latent_channels": 4,
}

SIZES: dict[str, BenchSize] = {
    DEMO: BenchSize(DEMO, 64, 64, 2, inbetweens=8, repeats=3, walk_frames=24),
    "small": BenchSize(
        "small",
        128,
        128,
        2,
        inbetweens=8,
        repeats=3,
        walk_frames=24,
        text={"hidden_size": 256, "intermediate_size": 1024, "num_attention_heads": 4, "num_hidden_layers": 4},
        unet={**_SD_UNET_BLOCKS, "block_out_channels": (64, 128, 256, 256), "cross_attention_dim": 256},
        vae={**_SD_VAE_BLOCKS, "block_out_channels": (32, 32, 64, 64), "layers_per_block": 2, "norm_num_groups": 16},
    ),
    "real": BenchSize(
        "real",
        512,
        512,
        2,
        inbetweens=32,
        repeats=3,
        walk_frames=100,
        text={"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12},
        unet={**_SD_UNET_BLOCKS, "block_out_channels": (320, 640, 1280, 1280), "cross_attention_dim": 768},
        vae={**_SD_VAE_BLOCKS, "block_out_channels": (128, 256, 512, 512), "layers_per_block": 2},
        fp16_weights=True,
    ),
}


def model_folder(size: BenchSize) -> Path:
    """The diffusers folder of the size's model, built on first use."""
    from ..demo_model import build_model_folder, demo_model_dir
    from ..tiny_decoder import FOLDER_DECODER, random_tiny_decoder

    if size.name == DEMO:
        return demo_model_dir()
    folder = cache_root() / "models" / f"bench-{size.name}-{BENCH_VERSION}"
    if not (folder / "model_index.json").exists():
        build_model_folder(folder, lambda tokenizer: build_bench_pipeline(size, tokenizer))
    if not (folder / FOLDER_DECODER / "config.json").exists():  # drafts use the folder's own tiny decoder
        random_tiny_decoder().save_pretrained(folder / FOLDER_DECODER)
    return folder


def model_name(size: BenchSize) -> str:
    """The model name the benchmark's projects use: the demo preset, or the size's folder."""
    return DEMO if size.name == DEMO else str(model_folder(size))


def build_bench_pipeline(size: BenchSize, tokenizer):
    """The size's random-weight StableDiffusionPipeline, the same every time."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(_SEED)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            **size.text,
            vocab_size=49408,  # CLIP's; the byte-level tokenizer uses the first 514 ids
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    latent_side = size.height // 8  # four VAE levels: 8x downscale
    unet = UNet2DConditionModel(sample_size=latent_side, in_channels=4, out_channels=4, **size.unet)
    vae = AutoencoderKL(in_channels=3, out_channels=3, sample_size=size.height, **size.vae)
    scheduler = EulerDiscreteScheduler(  # SD 1.5's noise schedule, turbo-style trailing timesteps
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", timestep_spacing="trailing", steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipe.to(torch.float16) if size.fp16_weights else pipe
