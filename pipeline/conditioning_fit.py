"""Whether a conditioning fits: the model that will render it, or the other end of a segment.

A conditioning file that passed `load_conditioning` is well formed, but it may come from another
model (latents of another size, embeddings of another width, SD tensors for an SDXL model) or,
as one end of `/interpolate`, from other settings than the other end. These checks refuse it
before any pixel is rendered, naming the file and what does not fit.
"""

from dataclasses import asdict
from typing import TYPE_CHECKING

from .conditioning import NOISE, Conditioning
from .errors import InputError

if TYPE_CHECKING:  # diffusers is imported only where a model is loaded
    from .models import LoadedModel


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
