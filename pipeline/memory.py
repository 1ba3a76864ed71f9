"""Memory options for small GPUs: attention slicing, VAE slicing and tiling, model CPU offload.

`ModelOptions` is part of the model cache key (models.py): a model loaded with other options is
another load. A field left at None takes the default for the device, chosen by `resolve`, so
callers that never heard of these options get what helps on their machine and nothing else.
None of them changes what a frame shows beyond rounding (VAE tiling blends its tiles' seams, and
only above the VAE's own sample size), so frame keys do not include them, just as they do not
include the device or dtype.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import ModelLoadError

if TYPE_CHECKING:  # torch-free at import: the CLI builds options before knowing if it renders
    import torch


@dataclass(frozen=True)
class ModelOptions:
    # Attention computed in slices. Off on CUDA and CPU, where torch's scaled-dot-product
    # attention already avoids the big attention matrix and slicing only slows it down; on by
    # default on MPS, as Apple-silicon machines share their memory with everything else.
    attention_slicing: bool | None = None
    # The VAE decodes a batch one image at a time. A batch of 8 frames at 1024 px takes GBs in one
    # decode; one at a time costs next to nothing. On by default on GPUs (CUDA, MPS).
    vae_slicing: bool | None = None
    # The VAE decodes in overlapping tiles, which diffusers does only for latents larger than the
    # VAE's own sample size (over 512 px for SD 1.x, 1024 px for SDXL): small frames are untouched.
    # On by default on CUDA, where big frames otherwise run out of memory in the decode.
    vae_tiling: bool | None = None
    # Each model stays on the CPU until it runs (accelerate hooks): a peak of one model's weights
    # on the GPU instead of all of them, at the price of a copy per call. CUDA only; never a
    # default, as it is slower wherever the model fits.
    cpu_offload: bool = False

    def resolve(self, device: torch.device) -> ModelOptions:
        """These options with every None replaced by the device's default."""
        gpu = device.type in ("cuda", "mps")
        return replace(
            self,
            attention_slicing=device.type == "mps" if self.attention_slicing is None else self.attention_slicing,
            vae_slicing=gpu if self.vae_slicing is None else self.vae_slicing,
            vae_tiling=device.type == "cuda" if self.vae_tiling is None else self.vae_tiling,
        )


def check_options(options: ModelOptions, device: torch.device, name: str) -> None:
    """Options the device cannot honour are refused, not ignored."""
    if options.cpu_offload and device.type != "cuda":
        raise ModelLoadError(f"cpu_offload needs a CUDA GPU, but model {name!r} runs on {device.type}")


def apply_memory_options(pipe, options: ModelOptions) -> None:
    """Switch on the resolved options on a freshly loaded pipeline's shared modules.

    Every scheduled pipeline shares these modules (models.py), so slicing and tiling set here
    hold for all of them; CPU offload installs hooks per pipeline (see `enable_offload`).
    """
    if options.attention_slicing:
        pipe.enable_attention_slicing()
    if options.vae_slicing:
        pipe.vae.enable_slicing()
    if options.vae_tiling:
        pipe.vae.enable_tiling()


def enable_offload(pipelines, device: torch.device) -> None:
    """Model CPU offload on each pipeline that shares the weights.

    diffusers re-installs a pipeline's offload hooks at the end of each call of that pipeline
    (`maybe_free_model_hooks`), on the modules every pipeline shares; each pipeline therefore
    needs its own `enable_model_cpu_offload`, so that whichever runs leaves all the models back on
    the CPU.
    """
    for pipe in pipelines:
        pipe.enable_model_cpu_offload(device=device)
