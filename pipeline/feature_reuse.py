"""Fast mode: reuse a UNet's deep features between denoising steps (DeepCache-style).

At neighbouring steps of a multi-step sampler the UNet's deep blocks compute nearly the same
features. Every REUSE_INTERVAL-th step is a full step, as the UNet computes it, which also keeps
the hidden state entering the last layer of the last up block (everything deep, at the full
resolution, before the final skip connection). The steps between are shallow: the time
embedding, `conv_in`, and that last layer only, fed the kept state and this step's `conv_in`
output through the skip connection. Pixels differ from the exact render (the README and
tests/test_fast_mode.py state by how much); with REUSE_INTERVAL 1 every step is full and the
output is the UNet's own, bit for bit. A project's `"fast": true` asks for it; with fewer than
project.MIN_FAST_STEPS steps (1-4 step turbo models, whose every step matters) frames render exact
under their exact keys (RenderSettings.reuses_features), with a notice.

`FeatureReuseUNet` wraps a shared UNet without changing it (nothing patched, no weights copied)
and holds the state of one denoising loop: `fast_pipeline` makes a new one for every call, so
renders in other threads, fast or exact, never see it. It takes what the Stable Diffusion and
SDXL text-to-image pipelines pass; what they never pass (attention masks, ControlNet or adapter
residuals, class labels) it refuses. We wrote it from diffusers' `UNet2DConditionModel`; the
DeepCache package (0.1.1) works with our diffusers but patches the shared UNet's forwards and
reads the shared scheduler, so it is not safe for a server rendering for several users at once.
"""

from typing import Any

import torch

from .models import with_components

REUSE_INTERVAL = 3  # a full step every 3 steps, shallow ones between


class FeatureReuseUNet:
    """One denoising loop's UNet: full steps every `interval` calls, shallow steps reusing the deep features between."""

    def __init__(self, unet, interval: int = REUSE_INTERVAL) -> None:
        self.unet = unet  # shared, never changed
        self.interval = interval
        self.calls = 0  # UNet calls so far in this loop (one per step: guidance is batched)
        self.deep: torch.Tensor | None = None  # the last full step's input to the last layer

    def __getattr__(self, name: str) -> Any:  # config, dtype, add_embedding...: the pipeline reads the UNet's
        return getattr(self.unet, name)

    def __call__(
        self,
        sample: torch.Tensor,
        timestep,
        encoder_hidden_states: torch.Tensor,
        timestep_cond: torch.Tensor | None = None,
        cross_attention_kwargs: dict[str, Any] | None = None,
        added_cond_kwargs: dict[str, torch.Tensor] | None = None,
        return_dict: bool = True,
    ):
        assert not return_dict, "the pipelines call their UNet with return_dict=False"
        unet = self.unet
        if hasattr(unet, "_hf_hook"):  # model CPU offload (memory.py): the hook of unet.forward moves it in
            unet._hf_hook.pre_forward(unet)
        full = self.calls % self.interval == 0 or self.deep is None
        self.calls += 1
        # 1. Time embedding (SDXL's size and pooled text too) and the first convolution.
        emb = unet.time_embedding(unet.get_time_embed(sample=sample, timestep=timestep), timestep_cond)
        aug = unet.get_aug_embed(
            emb=emb, encoder_hidden_states=encoder_hidden_states, added_cond_kwargs=added_cond_kwargs
        )
        emb = emb + aug if aug is not None else emb
        if unet.time_embed_act is not None:
            emb = unet.time_embed_act(emb)
        text = unet.process_encoder_hidden_states(encoder_hidden_states, added_cond_kwargs)
        sample = unet.conv_in(sample)  # (B, C0, h, w)
        context = {"emb": emb, "text": text, "attention": cross_attention_kwargs}
        # 2. The deep features: computed on a full step, else the last full step's.
        if full:
            self.deep = self._deep_features(sample, context)
        # 3. The last layer, from the deep features and conv_in's output (its skip connection).
        last = unet.up_blocks[-1]
        sample = self._up_layer(last, len(last.resnets) - 1, torch.cat([self.deep, sample], dim=1), context)
        # 4. Back to latent channels.
        if unet.conv_norm_out is not None:
            sample = unet.conv_act(unet.conv_norm_out(sample))
        return (unet.conv_out(sample),)  # (B, 4, h, w)

    def _deep_features(self, sample: torch.Tensor, context: dict) -> torch.Tensor:
        """The UNet's forward from conv_in's output to the input of the last up block's last layer."""
        unet, emb = self.unet, context["emb"]
        odd_size = any(side % 2**unet.num_upsamplers for side in sample.shape[-2:])  # upsample to the skips' size
        skips = (sample,)
        for block in unet.down_blocks:
            sample, more = block(hidden_states=sample, temb=emb, **_text_inputs(block, context))
            skips += more
        if unet.mid_block is not None:
            sample = unet.mid_block(sample, emb, **_text_inputs(unet.mid_block, context))
        for block in unet.up_blocks[:-1]:
            layers = len(block.resnets)
            skips, taken = skips[:-layers], skips[-layers:]
            size = skips[-1].shape[2:] if odd_size else None
            sample = block(
                hidden_states=sample,
                temb=emb,
                res_hidden_states_tuple=taken,
                upsample_size=size,
                **_text_inputs(block, context),
            )
        last = unet.up_blocks[-1]
        for layer in range(len(last.resnets) - 1):  # every layer but the last, whose skip is conv_in's output
            sample = self._up_layer(last, layer, torch.cat([sample, skips[-1 - layer]], dim=1), context)
        return sample  # (B, C0, h, w)

    @staticmethod
    def _up_layer(block, layer: int, sample: torch.Tensor, context: dict) -> torch.Tensor:
        """One layer of an up block (a resnet, and its cross-attention when it has one) on the joined input."""
        sample = block.resnets[layer](sample, context["emb"])
        if getattr(block, "attentions", None):
            sample = block.attentions[layer](sample, **_text_inputs(block, context), return_dict=False)[0]
        return sample


def _text_inputs(block, context: dict) -> dict:
    """What a block with cross-attention takes of the text (nothing for one without)."""
    if not getattr(block, "has_cross_attention", False):
        return {}
    return {"encoder_hidden_states": context["text"], "cross_attention_kwargs": context["attention"]}


def fast_pipeline(pipe, interval: int = REUSE_INTERVAL):
    """A pipeline for one call sharing pipe's weights, its UNet reusing deep features (never pipe itself changed)."""
    return with_components(pipe, unet=FeatureReuseUNet(pipe.unet, interval))
