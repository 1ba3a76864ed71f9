"""Backends do the model work for the renderer: encode keyframes, render batches of frames.

`Backend` is what the render core (renderer.py) asks of one. `LocalBackend` runs the model named
by the render settings in this process; `remote.RemoteBackend` on another instance of the app
through its API; `ray_backend.RayBackend` on the workers of a Ray cluster. torch and diffusers are imported on first use, so code that only reads the
frame store stays fast.

Per-step noise: a stochastic step (LCM's multi-step sampling re-noises between steps) draws
from a generator per frame, each seeded with the same fixed seed. Every frame thus gets the
same per-step noise whichever batch it is rendered in, so in-betweens do not flicker and a
frame's pixels do not depend on its neighbours; what varies along the timeline is only the
interpolated conditioning and starting noise. Deterministic schedulers draw nothing from it.
"""

from typing import TYPE_CHECKING, Protocol

import numpy as np

from .memory import ModelOptions
from .project import Keyframe, RenderSettings

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from .conditioning import Conditioning

STEP_NOISE_SEED = 0


class Backend(Protocol):
    """Does the model work for the render core."""

    rendered: int  # frames rendered so far

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> "Conditioning":
        """A keyframe's conditioning under the settings (an image keyframe's picture inverted)."""

    def render(self, settings: RenderSettings, frames: "list[dict[str, torch.Tensor]]") -> list[np.ndarray]:
        """(H, W, 3) uint8 images, in order, for any number of frames' conditioning tensors ((1, ...) each)."""

    def check_fits(self, conditioning: "Conditioning", name: str) -> None:
        """Raise InputError naming `name` unless a conditioning from outside suits the model."""


class LocalBackend:
    """Runs the model named by the settings in this process (loaded once, see models.py)."""

    def __init__(self, options: ModelOptions | None = None) -> None:
        self.options = options  # memory options; None: the device's defaults (memory.py)
        self.rendered = 0  # frames rendered so far

    def encode(self, settings: RenderSettings, keyframe: Keyframe):
        """A keyframe's conditioning; an image keyframe's picture is inverted (see inversion.py)."""
        from .keyframe_image import open_keyframe_image

        picture = open_keyframe_image(keyframe.image) if keyframe.image is not None else None
        return self.encode_picture(settings, keyframe, picture)

    def encode_picture(self, settings: RenderSettings, keyframe: Keyframe, picture: "Image.Image | None"):
        """A keyframe's conditioning from its picture, already read and checked (None: a prompt keyframe).

        A Ray worker is handed the picture: its file is on the driver's disk, not the worker's."""
        from .conditioning import encode_keyframe
        from .models import load_model

        model = load_model(settings.model, self.options)
        if picture is not None:
            from .inversion import encode_image_keyframe

            return encode_image_keyframe(model, settings, picture, keyframe)
        return encode_keyframe(model, settings, keyframe)

    def check_fits(self, conditioning, name: str) -> None:
        """InputError naming `name` unless the conditioning suits its model (loading that model)."""
        from .conditioning_fit import check_for_model
        from .models import load_model

        check_for_model(conditioning, load_model(conditioning.settings.model, self.options), name)

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        """(H, W, 3) uint8 images for a batch of conditioning tensor dicts."""
        from .conditioning import TIME_IDS

        images: list[np.ndarray] = []
        for run in _runs_with_equal(frames, TIME_IDS):  # one SDXL call takes one size conditioning
            images += self._render_run(settings, run)
        self.rendered += len(images)
        return images

    def _render_run(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        import torch

        from .conditioning import TIME_IDS
        from .models import load_model
        from .tiny_decoder import decoding_pipelines

        model = load_model(settings.model, self.options)
        pipe = decoding_pipelines(model, settings.decoder)[settings.scheduler]
        if settings.reuses_features:  # a pipeline of its own for this call: the shared one stays exact
            from .feature_reuse import fast_pipeline

            pipe = fast_pipeline(pipe)
        batch = {
            name: torch.cat([f[name] for f in frames]).to(model.device, model.dtype)
            for name in frames[0]
            if name != TIME_IDS
        }
        sizes = _sdxl_size_arguments(frames[0][TIME_IDS]) if TIME_IDS in frames[0] else {}
        step_noise = [torch.Generator("cpu").manual_seed(STEP_NOISE_SEED) for _ in frames]
        with torch.inference_mode():
            images = pipe(
                **batch,
                **sizes,
                generator=step_noise,
                num_inference_steps=settings.steps,
                guidance_scale=settings.guidance,
                width=settings.width,
                height=settings.height,
                output_type="np",
            ).images  # (B, H, W, 3) float in [0, 1]
        return list((images * 255).round().clip(0, 255).astype(np.uint8))


def _runs_with_equal(frames: list[dict], name: str) -> list[list[dict]]:
    """Consecutive frames split where tensor `name` changes (one run when no frame has it)."""
    runs: list[list[dict]] = []
    for frame in frames:
        if runs and (name not in frame or runs[-1][-1][name].equal(frame[name])):
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def _sdxl_size_arguments(time_ids) -> dict[str, tuple[float, float]]:
    """add_time_ids (1, 6) back into the SDXL pipeline's size and crop arguments."""
    h, w, top, left, target_h, target_w = time_ids[0].tolist()
    return {"original_size": (h, w), "crops_coords_top_left": (top, left), "target_size": (target_h, target_w)}
