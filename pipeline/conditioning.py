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
`image_sha256` and `strength`, see inversion.py). Files are .safetensors:
never pickle. `load_conditioning` treats every file as hostile and raises InputError on
anything that is not exactly what `save_conditioning` writes. Every tensor is interpolated
between two keyframes (`blend`); the renderer turns add_time_ids back into the pipeline's
original_size / crops_coords_top_left / target_size arguments (backends.py).
"""

import math
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .errors import InputError
from .interpolation import INTERPOLATIONS, lerp, slerp
from .keyframe_image import KeyframeImage
from .limits import limits
from .presets import SCHEDULER_NAMES
from .project import MAX_SEED, Keyframe, RenderSettings, check_size
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
    metadata = {**settings_metadata(settings), **{k: str(v) for k, v in keyframe.inputs().items()}}
    return Conditioning(tensors, metadata)


def settings_metadata(settings: RenderSettings) -> dict[str, str]:
    """The format and render settings as safetensors metadata (read back by settings_from_metadata)."""
    return {
        "format": FORMAT,
        "model": settings.model,
        "width": str(settings.width),
        "height": str(settings.height),
        "steps": str(settings.steps),
        "guidance": repr(settings.guidance),
        "scheduler": settings.scheduler,
    }


def blend(a: Conditioning, b: Conditioning, t: float, interpolation: str) -> dict[str, torch.Tensor]:
    """The tensors at fraction t between two keyframes: noise by slerp, sizes by lerp, embeddings as chosen."""
    mixes = {NOISE: slerp, TIME_IDS: lerp}
    mix = INTERPOLATIONS[interpolation]
    return {name: mixes.get(name, mix)(a.tensors[name], b.tensors[name], t) for name in a.tensors}


def save_conditioning(conditioning: Conditioning, path: Path) -> Path:
    save_file(conditioning.tensors, str(path), metadata=conditioning.metadata)
    return path


def _metadata_number(metadata: dict[str, str], name: str, key: str, kind, low, high):
    try:
        value = kind(metadata[key])
    except (KeyError, ValueError):
        raise InputError(f"{name}: metadata field {key!r} is missing or not a number") from None
    if not (low <= value <= high) or (kind is float and not math.isfinite(value)):
        raise InputError(f"{name}: metadata {key} must be between {low} and {high}, got {value}")
    return value


def settings_from_metadata(metadata: dict[str, str], name: str) -> RenderSettings:
    """The render settings a file's metadata holds, checked; InputError names the file and field."""

    def number(key: str, kind, low, high):
        return _metadata_number(metadata, name, key, kind, low, high)

    width, height = number("width", int, 64, 10**6), number("height", int, 64, 10**6)
    try:
        check_size(width, height)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    settings = RenderSettings(
        model=metadata.get("model", ""),
        width=width,
        height=height,
        steps=number("steps", int, 1, limits().max_steps),
        guidance=number("guidance", float, 0.0, 30.0),
        scheduler=metadata.get("scheduler", ""),
    )
    if not settings.model:
        raise InputError(f"{name}: metadata field 'model' is missing")
    if settings.scheduler not in SCHEDULER_NAMES:
        raise InputError(
            f"{name}: metadata scheduler must be one of {', '.join(SCHEDULER_NAMES)}; got {settings.scheduler!r}"
        )
    return settings


def _check_keyframe_metadata(metadata: dict[str, str], name: str) -> None:
    for key in ("prompt", "negative_prompt"):
        if key not in metadata:
            raise InputError(f"{name}: metadata field {key!r} is missing")
        limits().check("max_prompt_chars", f"{name}: metadata {key} (in characters)", len(metadata[key]))
    if metadata.get("style") not in STYLES:
        raise InputError(f"{name}: metadata style {metadata.get('style')!r} is not a known style")
    _metadata_number(metadata, name, "seed", int, 0, MAX_SEED)
    if "image_sha256" in metadata:  # an image keyframe's: both fields decide its frame keys
        if not re.fullmatch(r"[0-9a-f]{64}", metadata["image_sha256"]):
            raise InputError(f"{name}: metadata image_sha256 is not a sha256 hex digest")
        _metadata_number(metadata, name, "strength", float, 0.0, 1.0)


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


def _check_header_length(path: Path, size: int, name: str) -> None:
    """A .safetensors file starts with its header's length: refuse one the file cannot hold, unread."""
    with open(path, "rb") as file:
        head = file.read(8)
    length = int.from_bytes(head, "little")
    if len(head) < 8 or length > size - 8:
        raise InputError(f"{name}: not a valid .safetensors file (header of {length} bytes in a file of {size})")


def read_safetensors(
    path: Path, name: str, file_format: str, what: str
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) of a hostile .safetensors file of `file_format`; InputError on anything else."""
    try:
        info = Path(path).stat()
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{name}: not a regular file")
    limits().check("max_upload_bytes", f"{name}: the file", info.st_size)
    try:
        _check_header_length(path, info.st_size, name)
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            if metadata.get("format") != file_format:
                raise InputError(f"{name}: not {what} made by SD Video Creator (format {file_format!r} missing)")
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001  (safetensors raises several types for a broken file)
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: not a valid .safetensors file ({reason})") from None
    return metadata, tensors


def load_conditioning(path: Path, name: str | None = None) -> Conditioning:
    """Read a conditioning file, checking everything; raises InputError naming the problem."""
    name = name or Path(path).name
    metadata, tensors = read_safetensors(path, name, FORMAT, "a conditioning file")
    settings = settings_from_metadata(metadata, name)
    _check_keyframe_metadata(metadata, name)
    check_tensors(tensors, settings, name)
    return Conditioning(tensors, metadata)


def check_pair(a: Conditioning, b: Conditioning) -> None:
    """Two conditionings can be interpolated only under the same model and settings."""
    if a.settings != b.settings:
        first, second = asdict(a.settings), asdict(b.settings)
        differ = "; ".join(f"{k} {first[k]!r} vs {second[k]!r}" for k in first if first[k] != second[k])
        raise InputError(f"the two conditioning files differ in settings: {differ}")
    for key in a.tensors:
        if key not in b.tensors or a.tensors[key].shape != b.tensors[key].shape:
            raise InputError(f"the two conditioning files differ in tensor {key}")


def check_for_model(conditioning: Conditioning, model: "LoadedModel", name: str) -> None:
    """A conditioning must come from the model that will render it."""
    if conditioning.settings.model != model.name:
        raise InputError(f"{name} was made with model {conditioning.settings.model!r}; this server runs {model.name!r}")
    expected = model.latent_shape(conditioning.settings.width, conditioning.settings.height)
    if tuple(conditioning.tensors[NOISE].shape[1:]) != expected:
        raise InputError(
            f"{name}: latents {tuple(conditioning.tensors[NOISE].shape[1:])} do not fit model {model.name!r} ({expected})"
        )
    if ("pooled_prompt_embeds" in conditioning.tensors) != model.is_sdxl:
        kind = "an SDXL" if model.is_sdxl else "a Stable Diffusion 1.x/2.x"
        raise InputError(f"{name}: its tensors {sorted(conditioning.tensors)} do not fit {kind} model ({model.name!r})")
    if model.is_sdxl:
        pooled_width = model.pipe.text_encoder_2.config.projection_dim
        if conditioning.tensors["pooled_prompt_embeds"].shape[-1] != pooled_width:
            raise InputError(
                f"{name}: pooled_prompt_embeds width {conditioning.tensors['pooled_prompt_embeds'].shape[-1]} "
                f"does not fit model {model.name!r} ({pooled_width})"
            )
    width = (
        model.pipe.text_encoder_2.config.hidden_size if model.is_sdxl else model.pipe.text_encoder.config.hidden_size
    )
    if model.is_sdxl:
        width += model.pipe.text_encoder.config.hidden_size
    if conditioning.tensors["prompt_embeds"].shape[-1] != width:
        raise InputError(
            f"{name}: prompt_embeds width {conditioning.tensors['prompt_embeds'].shape[-1]} does not fit model {model.name!r} ({width})"
        )
