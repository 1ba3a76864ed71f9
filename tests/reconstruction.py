"""How closely an image keyframe's frame reproduces its picture (PSNR in dB): a measurement for tests.

It renders with the local backend and inverts with pipeline.inversion, so it lives here, on the
test side, rather than in the engine (where backends and inversion would import each other).
"""

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image

from pipeline.backends import LocalBackend
from pipeline.conditioning import encode_keyframe
from pipeline.inversion import encode_image_keyframe, image_latents
from pipeline.keyframe_image import KeyframeImage, fit_image, image_sha256
from pipeline.models import load_model
from pipeline.project import Keyframe, RenderSettings


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images in dB (inf when equal)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


@dataclass(frozen=True)
class Reconstruction:
    """How closely an image keyframe's frame reproduces its picture (PSNR in dB)."""

    frame: float  # the keyframe's frame vs the fitted picture
    frame_vs_vae: float  # the frame vs the VAE's own round trip of the picture: the inversion's exactness
    vae_ceiling: float  # that round trip vs the picture: no frame of this model can do better
    seed: float  # a plain prompt + seed frame vs the picture: what the test must beat
    seed_vs_vae: float


@torch.inference_mode()
def reconstruction_psnr(settings: RenderSettings, image: Image.Image, keyframe: Keyframe) -> Reconstruction:
    """Render `keyframe` once with `image` as its picture (strength 1) and once from its seed alone."""
    model, backend = load_model(settings.model), LocalBackend()
    fitted = fit_image(image.convert("RGB"), settings.width, settings.height)
    picture = KeyframeImage("measured", image_sha256(fitted.tobytes()))
    with_image = encode_image_keyframe(model, settings, fitted, replace(keyframe, image=picture, strength=1.0))
    without = encode_keyframe(model, settings, replace(keyframe, image=None))
    frame, seed_frame = backend.render(settings, [with_image.tensors, without.tensors])
    latents = image_latents(model, fitted)
    decoded = model.pipe.vae.decode(latents / model.pipe.vae.config.scaling_factor).sample[0]  # (3, H, W) in [-1, 1]
    round_trip = ((decoded.float().permute(1, 2, 0).cpu().numpy() / 2 + 0.5).clip(0, 1) * 255).round()
    target, round_trip = np.asarray(fitted), round_trip.astype(np.uint8)
    return Reconstruction(
        frame=psnr(frame, target),
        frame_vs_vae=psnr(frame, round_trip),
        vae_ceiling=psnr(round_trip, target),
        seed=psnr(seed_frame, target),
        seed_vs_vae=psnr(seed_frame, round_trip),
    )
