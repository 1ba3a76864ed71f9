"""Backends for tests: a model-free fake, and the local backend with a count of its work.

FakeBackend draws each frame as noise seeded by the frame's latents: distinct frames, identical
frames for identical inputs, incompressible (so every PNG has the same size), in microseconds;
for tests about files rather than pictures (eviction, crashes).
"""

import numpy as np
import torch

from pipeline.backends import LocalBackend
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


class CountingBackend(LocalBackend):
    """The local backend, recording the size of every batch it renders."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    @property
    def frames_rendered(self) -> int:
        return sum(self.batches)

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        self.batches.append(len(frames))
        return super().render(settings, frames)
