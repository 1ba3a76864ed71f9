"""Keyframe conditioning: encode a keyframe into named tensors, blend two, save and load them.

A conditioning is a dict of float32 tensors, each with batch size 1, named exactly as the
diffusers pipeline arguments they feed:

    prompt_embeds                  (1, 77, D)   text embeddings of the styled prompt
    negative_prompt_embeds         (1, 77, D)   only when guidance > 1
    pooled_prompt_embeds           (1, P)       SDXL only (and its negative twin)
    add_time_ids                   (1, 6)       SDXL only: its size and crop conditioning,
                                                original (h, w), crop top-left (y, x), target (h, w)
    latents                        (1, C, H/f, W/f)  starting noise from the seed

plus string metadata (format, model, render settings, prompt, seed; for an image keyframe also
`image_sha256` and `strength`, see inversion.py). Files are .safetensors (safetensors_file.py):
never pickle. `load_conditioning` treats every file as hostile and raises InputError on
anything that is not exactly what `save_conditioning` writes; whether a well-formed file fits a
model is conditioning_fit.py's question. Every tensor is interpolated between two keyframes
(`blend`; on a spline path `blend_spline`, through their neighbours too); the renderer turns
add_time_ids back into the pipeline's original_size / crops_coords_top_left / target_size
arguments (backends.py).
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import save_file

from .errors import InputError
from .interpolation import INTERPOLATIONS, catmull_rom, lerp, on_sphere, slerp
from .keyframe_image import KeyframeImage
from .limits import limits
from .project import FULL_DECODER, MAX_SEED, Keyframe, RenderSettings
from .safetensors_file import metadata_number, read_safetensors, settings_from_metadata, settings_metadata
from .styles import STYLES, apply_style

if TYPE_CHECKING:  # diffusers is imported only where a model is loaded (a remote render needs none)
    from .models import LoadedModel

FORMAT = "sd-video-creator/conditioning-v1"
NOISE = "latents"
TIME_IDS = "add_time_ids"
MAX_TIME_ID = 8192  # SDXL was trained on original sizes up to a few thousand pixels
EMBEDDINGS = ("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds")


@dataclass(frozen=True, eq=False)
class Conditioning:
    tensors: dict[str, torch.Tensor]
    metadata: dict[str, str]

    @property
    def settings(self) -> RenderSettings:
        m = self.metadata
        return RenderSettings(
            model=m["model"],
            width=int(m["width"]),
            height=int(m["height"]),
            steps=int(m["steps"]),
            guidance=float(m["guidance"]),
            scheduler=m["scheduler"],
            decoder=m.get("decoder", FULL_DECODER),  # a draft batch's (safetensors_file.settings_metadata)
            fast=m.get("fast") == "true",  # a fast batch's, likewise
        )

    @property
    def keyframe(self) -> Keyframe:
        m = self.metadata
        image = KeyframeImage("", m["image_sha256"]) if "image_sha256" in m else None
        strength = float(m["strength"]) if image else 1.0
        return Keyframe(0, m["prompt"], m["negative_prompt"], m["style"], int(m["seed"]), image, strength)


def sdxl_time_ids(settings: RenderSettings) -> torch.Tensor:
    """SDXL's size conditioning as diffusers defaults it: original = target = the frame size, no crop."""
    h, w = settings.height, settings.width
    return torch.tensor([[h, w, 0, 0, h, w]], dtype=torch.float32)  # (1, 6)


def seed_noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Starting latents for a seed; drawn on the CPU so every device gets the same noise."""
    return torch.randn((1, *shape), generator=torch.Generator("cpu").manual_seed(seed), dtype=torch.float32)


@torch.inference_mode()
def encode_keyframe(model: "LoadedModel", settings: RenderSettings, keyframe: Keyframe) -> Conditioning:
    """Text embeddings and seed noise for one keyframe under the project's settings."""
    prompt, negative = apply_style(keyframe.style, keyframe.prompt, keyframe.negative_prompt)
    guided = settings.guidance > 1.0
    if model.is_sdxl:
        embeds, negative_embeds, pooled, negative_pooled = model.pipe.encode_prompt(
            prompt, device=model.device, do_classifier_free_guidance=guided, negative_prompt=negative
        )
        tensors = {"prompt_embeds": embeds, "pooled_prompt_embeds": pooled, TIME_IDS: sdxl_time_ids(settings)}
        if guided:
            tensors |= {"negative_prompt_embeds": negative_embeds, "negative_pooled_prompt_embeds": negative_pooled}
    else:
        embeds, negative_embeds = model.pipe.encode_prompt(prompt, model.device, 1, guided, negative)
        tensors = {"prompt_embeds": embeds}
        if guided:
            tensors["negative_prompt_embeds"] = negative_embeds
    tensors = {name: t.float().cpu().contiguous() for name, t in tensors.items()}
    tensors[NOISE] = seed_noise(model.latent_shape(settings.width, settings.height), keyframe.seed)
    metadata = {**settings_metadata(settings, FORMAT), **{k: str(v) for k, v in keyframe.inputs().items()}}
    return Conditioning(tensors, metadata)


def blend(a: Conditioning, b: Conditioning, t: float, interpolation: str) -> dict[str, torch.Tensor]:
    """The tensors at fraction t between two keyframes: noise by slerp, sizes by lerp, embeddings as chosen."""
    mixes = {NOISE: slerp, TIME_IDS: lerp}
    mix = INTERPOLATIONS[interpolation]
    return {name: mixes.get(name, mix)(a.tensors[name], b.tensors[name], t) for name in a.tensors}


def blend_spline(
    before: Conditioning | None,
    a: Conditioning,
    b: Conditioning,
    after: Conditioning | None,
    t: float,
    interpolation: str,
) -> dict[str, torch.Tensor]:
    """The tensors at t on a Catmull-Rom curve from a to b through their neighbours (None: an end).

    Noise is kept on the sphere (the norm slerp would give); with slerp so are the embeddings;
    sizes are lerped."""

    def mix(name: str) -> torch.Tensor:
        v0, v1 = a.tensors[name], b.tensors[name]
        if name == TIME_IDS:
            return lerp(v0, v1, t)
        near = [None if c is None else c.tensors[name] for c in (before, after)]
        curve = catmull_rom(near[0], v0, v1, near[1], t)
        return on_sphere(curve, v0, v1, t) if name == NOISE or interpolation == "slerp" else curve

    return {name: mix(name) for name in a.tensors}


def save_conditioning(conditioning: Conditioning, path: Path) -> Path:
    save_file(conditioning.tensors, str(path), metadata=conditioning.metadata)
    return path


def _check_keyframe_metadata(metadata: dict[str, str], name: str) -> None:
    for key in ("prompt", "negative_prompt"):
        if key not in metadata:
            raise InputError(f"{name}: metadata field {key!r} is missing")
        limits().check("max_prompt_chars", f"{name}: metadata {key} (in characters)", len(metadata[key]))
    if metadata.get("style") not in STYLES:
        raise InputError(f"{name}: metadata style {metadata.get('style')!r} is not a known style")
    metadata_number(metadata, name, "seed", int, 0, MAX_SEED)
    if "image_sha256" in metadata:  # an image keyframe's: both fields decide its frame keys
        if not re.fullmatch(r"[0-9a-f]{64}", metadata["image_sha256"]):
            raise InputError(f"{name}: metadata image_sha256 is not a sha256 hex digest")
        metadata_number(metadata, name, "strength", float, 0.0, 1.0)


def check_tensors(tensors: dict[str, torch.Tensor], settings: RenderSettings, name: str) -> None:
    """One frame's tensors (batch size 1) as `save_conditioning` writes them for these settings."""
    guided = settings.guidance > 1.0
    sdxl = "pooled_prompt_embeds" in tensors
    expected = {"prompt_embeds", NOISE}
    if guided:
        expected.add("negative_prompt_embeds")
    if sdxl:
        expected |= {"pooled_prompt_embeds", TIME_IDS}
        if guided:
            expected.add("negative_pooled_prompt_embeds")
    if set(tensors) != expected:
        raise InputError(
            f"{name}: holds tensors {sorted(tensors)}, expected {sorted(expected)} for guidance {settings.guidance}"
        )
    for key, tensor in tensors.items():
        if tensor.dtype != torch.float32:
            raise InputError(f"{name}: tensor {key} is {tensor.dtype}, expected torch.float32")
        if tensor.shape[0:1] != (1,) or tensor.numel() == 0:
            raise InputError(f"{name}: tensor {key} has shape {tuple(tensor.shape)}, expected batch size 1")
        if not torch.isfinite(tensor).all():
            raise InputError(f"{name}: tensor {key} holds NaN or infinite values")
    embeds, noise = tensors["prompt_embeds"], tensors[NOISE]
    if embeds.ndim != 3 or noise.ndim != 4:
        raise InputError(f"{name}: prompt_embeds must be 3-D and latents 4-D, got {embeds.ndim}-D and {noise.ndim}-D")
    if sdxl:
        _check_sdxl_tensors(tensors, name)
    for key in EMBEDDINGS[1:]:
        if key in tensors and key.startswith("negative") and tensors[key].shape != tensors[key[9:]].shape:
            raise InputError(f"{name}: {key} has shape {tuple(tensors[key].shape)}, unlike {key[9:]}")
    h, w = noise.shape[2:]
    if settings.height % h or settings.width % w or settings.height // h != settings.width // w:
        raise InputError(f"{name}: latents of {w}x{h} do not fit the metadata size {settings.width}x{settings.height}")


def _check_sdxl_tensors(tensors: dict[str, torch.Tensor], name: str) -> None:
    pooled, time_ids = tensors["pooled_prompt_embeds"], tensors[TIME_IDS]
    if pooled.ndim != 2:
        raise InputError(f"{name}: pooled_prompt_embeds must be 2-D, got shape {tuple(pooled.shape)}")
    if tuple(time_ids.shape) != (1, 6):
        raise InputError(f"{name}: {TIME_IDS} must have shape (1, 6), got {tuple(time_ids.shape)}")
    sizes, crops = time_ids[0, [0, 1, 4, 5]], time_ids[0, 2:4]
    if not ((sizes >= 1) & (sizes <= MAX_TIME_ID)).all() or not ((crops >= 0) & (crops <= MAX_TIME_ID)).all():
        raise InputError(
            f"{name}: {TIME_IDS} {time_ids[0].tolist()} must hold sizes between 1 and {MAX_TIME_ID} and crops "
            f"between 0 and {MAX_TIME_ID}"
        )


def load_conditioning(path: Path, name: str | None = None) -> Conditioning:
    """Read a conditioning file, checking everything; raises InputError naming the problem."""
    name = name or Path(path).name
    metadata, tensors = read_safetensors(path, name, FORMAT, "a conditioning file")
    settings = settings_from_metadata(metadata, name)
    _check_keyframe_metadata(metadata, name)
    check_tensors(tensors, settings, name)
    return Conditioning(tensors, metadata)
