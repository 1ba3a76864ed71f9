"""A backend without a model, for tests about files rather than pictures (eviction, crashes).

It draws each frame as noise seeded by the frame's latents: distinct frames, identical frames
for identical inputs, incompressible (so every PNG has the same size), in microseconds.
"""

import numpy as np
import torch

from pipeline.conditioning import Conditioning, seed_noise
from pipeline.project import Keyframe, RenderSettings


class FakeBackend:
    def __init__(self) -> None:
        self.rendered = 0  # frames drawn so far

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> Conditioning:
        return Conditioning(
            {"prompt_embeds": torch.zeros(1, 77, 8), "latents": seed_noise((4, 8, 8), keyframe.seed)}, {}
        )

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        self.rendered += len(frames)
        seeds = [int(abs(f["latents"].sum().item()) * 1e6) for f in frames]
        shape = (settings.height, settings.width, 3)
        return [np.random.default_rng(s).integers(0, 256, shape, dtype=np.uint8) for s in seeds]
