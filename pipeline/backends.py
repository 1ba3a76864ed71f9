"""Backends do the model work for the renderer: encode keyframes, render batches of frames.

`LocalBackend` runs the model named by the render settings in this process. torch and
diffusers are imported on first use, so code that only reads the frame store stays fast.
"""

import numpy as np

from .project import Keyframe, RenderSettings


class LocalBackend:
    """Runs the model named by the settings in this process (loaded once, see models.py)."""

    def encode(self, settings: RenderSettings, keyframe: Keyframe):
        """A keyframe's conditioning; an image keyframe's picture is inverted (see inversion.py)."""
        from .conditioning import encode_keyframe
        from .models import load_model

        model = load_model(settings.model)
        if keyframe.image is not None:
            from .inversion import encode_image_keyframe
            from .keyframe_image import open_keyframe_image

            return encode_image_keyframe(model, settings, open_keyframe_image(keyframe.image), keyframe)
        return encode_keyframe(model, settings, keyframe)

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        """(H, W, 3) uint8 images for a batch of conditioning tensor dicts."""
        import torch

        from .models import load_model

        model = load_model(settings.model)
        pipe = model.pipelines[settings.scheduler]
        batch = {name: torch.cat([f[name] for f in frames]).to(model.device, model.dtype) for name in frames[0]}
        with torch.inference_mode():
            images = pipe(
                **batch,
                num_inference_steps=settings.steps,
                guidance_scale=settings.guidance,
                width=settings.width,
                height=settings.height,
                output_type="np",
            ).images  # (B, H, W, 3) float in [0, 1]
        return list((images * 255).round().clip(0, 255).astype(np.uint8))
