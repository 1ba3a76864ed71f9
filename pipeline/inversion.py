"""Image keyframes: the starting noise from which the project's model redraws a given picture.

An image keyframe's conditioning is its prompt's embeddings (as any keyframe's) plus noise
found by inverting the picture with the project's model, so that rendering the keyframe
reproduces the picture and in-betweens travel from it to the neighbouring keyframes:

1. fit the picture to the frame (scale to cover, crop the centre; keyframe_image.fit_image);
2. encode it with the VAE (the latent distribution's mean: no sampling, deterministic);
3. run the project's sampler backwards over the project's steps. Euler, DDIM and the first
   order of DPM++ all take the same step x' = x + (sigma' - sigma) * eps(x) in the
   sigma-scaled space x = z / sqrt(alpha_bar), so each step is undone by solving
   x = x' + (sigma - sigma') * eps(x) for x: the classic DDIM-inversion guess (eps taken at
   x'), refined by `FIXED_POINT_ITERATIONS` fixed-point iterations (the exact inverse of the
   step when they converge, as they do for a smooth trained denoiser). Guidance is inverted
   as it is rendered. Exact for euler and ddim; dpm++2m's second-order correction is not
   inverted, so its reconstruction is looser. Measured on a smooth tiny model, against the
   VAE's own round trip of the picture: ~36 dB at 4 steps, 59-74 dB at 25 (dpm++2m 33-38);
   few steps with strong guidance converge slowly (4 steps at guidance 7.5: ~19 dB). The
   demo model's random UNet is no denoiser, and the iterations do not converge on it;
4. blend with the seed's noise by `strength`: noise = slerp(seed noise, inverted, strength).
   1 (the default) reproduces the picture, 0 ignores it (a plain prompt + seed keyframe),
   values between keep its layout more or less loosely.

Everything runs in a fixed order with no random draw, so the same picture, prompt and settings
always give the same noise (bit for bit on the same device). How closely a keyframe's frame
reproduces its picture is measured by the tests (tests/reconstruction.py).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import DDIMScheduler, EulerDiscreteScheduler
from PIL import Image

from .conditioning import NOISE, Conditioning, encode_keyframe
from .interpolation import slerp
from .keyframe_image import fit_image
from .models import LoadedModel
from .project import Keyframe, RenderSettings

FIXED_POINT_ITERATIONS = 4  # per step; each costs one model call (two with guidance)


@torch.inference_mode()
def encode_image_keyframe(
    model: LoadedModel, settings: RenderSettings, image: Image.Image, keyframe: Keyframe
) -> Conditioning:
    """Conditioning of a keyframe whose picture is `image` (any size, RGB); keyframe.image names it.

    The same format as `encode_keyframe`'s; the metadata adds `image_sha256` and `strength`.
    """
    if keyframe.image is None:
        raise ValueError("encode_image_keyframe needs keyframe.image (the picture's KeyframeImage)")
    # 1. The prompt's embeddings and the seed's noise, as for any keyframe.
    conditioning = encode_keyframe(model, settings, keyframe)
    seed_noise = conditioning.tensors[NOISE]
    if keyframe.strength == 0.0:  # the picture is ignored: no need to invert it
        return conditioning
    # 2. The picture's latents, then the noise the sampler turns into them.
    latents = image_latents(model, fit_image(image.convert("RGB"), settings.width, settings.height))
    inverted = invert_latents(model, settings, conditioning.tensors, latents)
    # 3. Strength: how much of the picture's noise the keyframe keeps.
    conditioning.tensors[NOISE] = slerp(seed_noise, inverted, keyframe.strength).contiguous()
    return conditioning


def image_latents(model: LoadedModel, image: Image.Image) -> torch.Tensor:
    """VAE latents of an RGB picture, scaled as the pipeline's sampler works with them."""
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None]  # (1, 3, H, W) uint8
    pixels = pixels.to(model.device, model.dtype) / 127.5 - 1.0
    vae = model.pipe.vae
    return vae.encode(pixels).latent_dist.mean * vae.config.scaling_factor  # (1, C, H/f, W/f)


@dataclass(frozen=True)
class NoiseLevels:
    """The render's schedule, read from a fresh copy of the project's scheduler."""

    timesteps: torch.Tensor  # (N,) what the model is told
    sigmas: list[float]  # N + 1 noise levels, sqrt((1 - alpha_bar) / alpha_bar); the last is the final one
    sigma_scaled: bool  # the scheduler's samples are x (Euler), not the unit-variance z (DDIM, DPM++)
    init_noise_sigma: float  # the pipeline multiplies the starting noise by this


def noise_levels(model: LoadedModel, settings: RenderSettings) -> NoiseLevels:
    template = model.pipelines[settings.scheduler].scheduler
    scheduler = type(template).from_config(template.config)  # never touch the shared one
    scheduler.set_timesteps(settings.steps, device="cpu")
    timesteps = scheduler.timesteps
    if isinstance(scheduler, DDIMScheduler):  # as DDIMScheduler.step: alpha_bar at t - stride, or the final one
        stride = scheduler.config.num_train_timesteps // settings.steps
        levels = [float(scheduler.alphas_cumprod[int(t)]) for t in timesteps]
        last = int(timesteps[-1]) - stride
        levels.append(float(scheduler.alphas_cumprod[last]) if last >= 0 else float(scheduler.final_alpha_cumprod))
        sigmas = [math.sqrt((1 - a) / a) for a in levels]
    else:
        sigmas = [float(s) for s in scheduler.sigmas]
    sigma_scaled = isinstance(scheduler, EulerDiscreteScheduler)
    return NoiseLevels(timesteps, sigmas, sigma_scaled, float(scheduler.init_noise_sigma))


def invert_latents(
    model: LoadedModel, settings: RenderSettings, tensors: dict[str, torch.Tensor], latents: torch.Tensor
) -> torch.Tensor:
    """Starting noise (1, C, H/f, W/f), float32 on the CPU, from which the render ends at `latents`."""
    levels = noise_levels(model, settings)
    sigmas = levels.sigmas
    prediction = model.pipelines[settings.scheduler].scheduler.config.prediction_type
    predict = _noise_predictor(model, settings, tensors, prediction)

    def x_factor(sigma: float) -> float:  # scheduler sample * x_factor = sigma-scaled x
        return 1.0 if levels.sigma_scaled else math.sqrt(sigma**2 + 1)

    x = latents.float() * x_factor(sigmas[-1])
    for i in reversed(range(len(levels.timesteps))):
        target, step, t = x, sigmas[i] - sigmas[i + 1], levels.timesteps[i]
        scale = 1 / math.sqrt(sigmas[i] ** 2 + 1)  # the model sees z = x * scale
        x = target + step * predict(target * scale, t, sigmas[i])  # the classic DDIM-inversion guess
        for _ in range(FIXED_POINT_ITERATIONS):
            x = target + step * predict(x * scale, t, sigmas[i])
    first = x / x_factor(sigmas[0])
    return (first / levels.init_noise_sigma).float().cpu()


def _noise_predictor(model: LoadedModel, settings: RenderSettings, tensors: dict[str, torch.Tensor], prediction: str):
    """eps(z, t) as the render computes it: guided when guidance > 1, SDXL's extra inputs included."""
    guided = settings.guidance > 1.0
    device, dtype = model.device, model.dtype

    def both(name: str) -> torch.Tensor:
        pair = [tensors[f"negative_{name}"], tensors[name]] if guided else [tensors[name]]
        return torch.cat(pair).to(device, dtype)

    embeds = both("prompt_embeds")
    extra = {}
    if model.is_sdxl:  # original size = target size, no crop: as the pipeline's defaults
        h, w = settings.height, settings.width
        time_ids = torch.tensor([[h, w, 0, 0, h, w]], device=device, dtype=dtype).repeat(len(embeds), 1)
        extra = {"added_cond_kwargs": {"text_embeds": both("pooled_prompt_embeds"), "time_ids": time_ids}}

    def predict(z: torch.Tensor, t: torch.Tensor, sigma: float) -> torch.Tensor:
        model_in = torch.cat([z] * len(embeds)).to(dtype)
        out = model.pipe.unet(model_in, t.to(device), encoder_hidden_states=embeds, **extra).sample.float()
        if prediction == "v_prediction":  # eps = sigma_t * z + alpha_t * v, with z = alpha_t * x
            alpha = 1 / math.sqrt(sigma**2 + 1)
            out = sigma * alpha * model_in.float() + alpha * out
        if guided:
            uncond, cond = out.chunk(2)
            return uncond + settings.guidance * (cond - uncond)
        return out

    return predict
