"""The tiny decoder drafts use: a TAESD-sized `AutoencoderTiny` in place of the model's VAE.

At 512² the SD VAE's decode is three quarters of a 1-step frame; TAESD (madebyollin/taesd for
SD 1.x/2.x, madebyollin/taesdxl for SDXL) decodes the same latents at a tenth of the cost, with
softer pictures. Where one comes from:

    the demo model       a random-weight AutoencoderTiny of TAESD's architecture, built here
    a model folder       its `tiny_vae/` subfolder when it has one
    any other model      taesd / taesdxl from the Hugging Face cache, or the hub when reachable

`tiny_decoder_available` answers without torch (a file look-up, and a quick connection when the
hub is allowed), so planning a draft stays cheap; `decoding_pipelines` loads the decoder once per
model and builds its pipelines, one per scheduler, sharing every other weight with the model's.
"""

import functools
import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .errors import ModelLoadError
from .presets import DEMO, PRESETS
from .project import FULL_DECODER, TINY_DECODER

if TYPE_CHECKING:
    from .models import LoadedModel

TAESD = "madebyollin/taesd"  # SD 1.x and 2.x latents
TAESDXL = "madebyollin/taesdxl"  # SDXL latents
FOLDER_DECODER = "tiny_vae"  # a model folder's own tiny decoder, in diffusers format
FULL_VAE_WIDTH = 512  # the SD and SDXL VAEs' widest decoder block
_RANDOM_SEED = 20261202  # the demo model's random tiny decoder, the same every time


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _model_json(model: str, name: str) -> dict:
    """A JSON file of the model (model_index.json, vae/config.json) from its folder or the hub cache; {} when neither has it."""
    from huggingface_hub import try_to_load_from_cache

    source = PRESETS[model].model_id if model in PRESETS else model
    path = Path(source) / name
    if not path.is_file():
        cached = try_to_load_from_cache(source, name) if source.count("/") == 1 else None
        path = Path(cached) if isinstance(cached, str) else path
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def hub_decoder(model: str) -> str:
    """The hub repository of the tiny decoder for a model's latents."""
    if (
        model == "sdxl-turbo"
        or _model_json(model, "model_index.json").get("_class_name") == "StableDiffusionXLPipeline"
    ):
        return TAESDXL
    return TAESD


def tiny_decoder_pays(model: str) -> bool:
    """Whether a tiny decoder is cheaper than the model's own VAE (not for a toy-width VAE).

    TAESD's 64 channels decode SD's 512-channel VAE's latents at a tenth of the cost, but cost more
    than a VAE of 64 channels or fewer (measured: the benchmark's mid-size model, 1.24x slower).
    The demo model drafts with one anyway: it is what the tests run that path with."""
    widths = _model_json(model, "vae/config.json").get("block_out_channels") or [FULL_VAE_WIDTH]
    return model == DEMO or max(widths) >= FULL_VAE_WIDTH // 2


@functools.cache  # one look-up (and at most one connection) per process and model
def tiny_decoder_available(model: str) -> bool:
    """Whether drafts of this model can use a tiny decoder (no torch, no download here)."""
    from huggingface_hub import constants, try_to_load_from_cache

    if model == DEMO or (Path(model) / FOLDER_DECODER / "config.json").is_file():
        return True
    if isinstance(try_to_load_from_cache(hub_decoder(model), "config.json"), str):
        return True
    if _offline():
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=3).close()
    except OSError:
        return False
    return True


def random_tiny_decoder():
    """A random-weight AutoencoderTiny of TAESD's architecture (the demo model's, and tests')."""
    import torch
    from diffusers import AutoencoderTiny

    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays as it was
        torch.manual_seed(_RANDOM_SEED)
        return AutoencoderTiny()


def _load_tiny_decoder(model: "LoadedModel"):
    from diffusers import AutoencoderTiny

    if model.name == DEMO:
        return random_tiny_decoder()
    folder = Path(model.name) / FOLDER_DECODER
    if folder.is_dir():
        return AutoencoderTiny.from_pretrained(folder)
    repo = TAESDXL if model.is_sdxl else TAESD
    try:
        return AutoencoderTiny.from_pretrained(repo, local_files_only=True)
    except (OSError, ValueError):
        if _offline():
            raise
        return AutoencoderTiny.from_pretrained(repo)


@functools.lru_cache(maxsize=1)  # as models.py: one model (and its tiny pipelines) at a time
def _tiny_pipelines(model: "LoadedModel") -> dict:
    from .models import with_components

    try:
        tiny = _load_tiny_decoder(model)
    except Exception as exc:
        raise ModelLoadError(
            f"could not load a tiny decoder for model {model.name!r}: {str(exc).splitlines()[0]}"
        ) from exc
    tiny = tiny.to(model.device, model.dtype).eval()
    return {name: with_components(pipe, vae=tiny) for name, pipe in model.pipelines.items()}


def decoding_pipelines(model: "LoadedModel", decoder: str):
    """The model's pipelines by scheduler name, decoding with `decoder` (project.DECODERS)."""
    if decoder == FULL_DECODER:
        return model.pipelines
    assert decoder == TINY_DECODER, decoder
    return _tiny_pipelines(model)
