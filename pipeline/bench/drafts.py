"""Draft against final, per frame: `python -m pipeline.bench --drafts [--device cpu|cuda] [--json OUT]`.

Two measures, each in a few minutes on a 2-core CPU:

    mid-size   the `small` benchmark model at 256², through the project's renderer (LocalBackend):
               finals, drafts with the folder's tiny decoder (which its narrow VAE makes slower:
               draft.py then renders drafts the other way), and drafts without one (half the
               size, half the steps, what its drafts are), every frame new; the VAE's share
    real-size  sd-turbo's layout (SD 2.1 UNet, SD VAE, TAESD-sized AutoencoderTiny) with random
               weights at 512², batch 1, 1 step, timed part by part: UNet step, full decode, tiny
               decode; final = UNet + VAE, draft = UNet + tiny, fallback draft = both at 256²

Random weights give real timings. Ratios use CPU seconds on the CPU (robust to other processes
sharing the machine) and wall seconds on a GPU.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from ..backends import LocalBackend
from ..draft import as_draft, cheaper_settings, draft_settings
from ..frame_store import FrameStore
from ..project import TINY_DECODER, RenderSettings
from ..renderer import render_frames, run_render
from ..timeline import plan_timeline
from .models import SIZES, model_name
from .runs import Timing, make_project, sync, timed

MID_SIDE = 256
MID_FRAMES = 6  # in-betweens rendered per variant (batch 1: per-frame cost)
REAL_SIDE = 512
_SD_TURBO_UNET = {  # stabilityai/sd-turbo's unet/config.json (SD 2.1 layout)
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "attention_head_dim": (5, 10, 20, 20),
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
}
_SD_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
}


def cost_of(timing: Timing, device: str) -> float:
    return timing.cpu_seconds if device == "cpu" else timing.seconds


def set_torch_threads(args: argparse.Namespace) -> None:
    """1 torch thread on the CPU unless --threads says otherwise, as measure.run."""
    import torch

    threads = args.threads if args.threads is not None else (1 if args.device == "cpu" else 0)
    if threads:
        torch.set_num_threads(threads)


def goals_line(goals: dict[str, bool]) -> str:
    return "Goals: " + "; ".join(f"{goal}: {'met' if ok else 'NOT met'}" for goal, ok in goals.items())


def per_frame(
    settings: RenderSettings, store: FrameStore, backend: LocalBackend, device: str, draft, frames: int = MID_FRAMES
) -> dict:
    """Seconds per new frame: `frames` in-betweens at batch 1 (keyframes encoded beforehand); `draft`
    makes each planned frame the one to time (None: the frame itself)."""
    project = make_project(settings, [0, frames + 1])
    plans = [p for p in plan_timeline(project) if not p.is_keyframe]
    timed_frames = [draft(p) for p in plans] if draft else plans
    warm = timed_frames[:1]
    run_render(render_frames(warm, store, backend, batch_size=1))  # loads the model and its decoder
    timing, _ = timed(lambda: run_render(render_frames(timed_frames[1:], store, backend, batch_size=1)), device)
    count = len(timed_frames) - 1
    return {"seconds": round(timing.seconds / count, 4), "cost": round(cost_of(timing, device) / count, 4)}


def mid_size(device: str) -> dict:
    size = SIZES["small"]
    settings = RenderSettings(model_name(size), MID_SIDE, MID_SIDE, size.steps, 0.0, "euler")
    tiny = replace(settings, decoder=TINY_DECODER)  # what draft_settings would take were it cheaper
    cheaper = cheaper_settings(settings)
    backend = LocalBackend()
    with tempfile.TemporaryDirectory() as folder:
        store = FrameStore(Path(folder))
        result = {
            "model": "small",
            "draft_settings": draft_settings(settings).notice or "tiny decoder",
            "side": MID_SIDE,
            "steps": size.steps,
            "final": per_frame(settings, store, backend, device, None),
            "draft": per_frame(settings, store, backend, device, lambda p: as_draft(p, tiny)),
            "draft_without_tiny_decoder": per_frame(settings, store, backend, device, lambda p: as_draft(p, cheaper)),
        }
    result["vae_share_of_final"] = _vae_share(settings, device, result["final"]["cost"])
    for name in ("draft", "draft_without_tiny_decoder"):
        result[f"{name}_vs_final"] = round(result[name]["cost"] / result["final"]["cost"], 3)
    return result


def _vae_share(settings: RenderSettings, device: str, frame_cost: float) -> float:
    """The loaded model's full VAE decode of one frame, as a share of a final frame's cost."""
    import torch

    from ..models import load_model

    model = load_model(settings.model)
    latents = torch.randn(1, *model.latent_shape(settings.width, settings.height), device=model.device)
    vae = model.pipe.vae
    with torch.inference_mode():
        vae.decode(latents)
        timing, _ = timed(lambda: vae.decode(latents), device)
    return round(cost_of(timing, device) / frame_cost, 3)


def real_size(device: str) -> dict:
    """sd-turbo's layout at 512², 1 step, batch 1, part by part."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from ..tiny_decoder import random_tiny_decoder

    dtype = torch.float16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=REAL_SIDE // 8, **_SD_TURBO_UNET).to(device, dtype).eval()
    vae = AutoencoderKL(sample_size=REAL_SIDE, **_SD_VAE).to(device, dtype).eval()
    tiny = random_tiny_decoder().to(device, dtype).eval()
    text = torch.randn(1, 77, 1024, device=device, dtype=dtype)

    def cost(run) -> float:
        run()  # warm-up
        sync(device)
        timing, _ = timed(run, device)
        return round(cost_of(timing, device), 3)

    parts = {}
    with torch.inference_mode():
        for side in (REAL_SIDE, REAL_SIDE // 2):
            latents = torch.randn(1, 4, side // 8, side // 8, device=device, dtype=dtype)
            parts[side] = {
                "unet_step": cost(lambda latents=latents: unet(latents, 999, encoder_hidden_states=text)),
                "vae_decode": cost(lambda latents=latents: vae.decode(latents)),
            }
            if side == REAL_SIDE:
                parts[side]["tiny_decode"] = cost(lambda latents=latents: tiny.decode(latents))
    big, small = parts[REAL_SIDE], parts[REAL_SIDE // 2]
    final = big["unet_step"] + big["vae_decode"]
    draft = big["unet_step"] + big["tiny_decode"]
    fallback = small["unet_step"] + small["vae_decode"]
    return {
        "side": REAL_SIDE,
        "steps": 1,
        "parts": {str(side): p for side, p in parts.items()},
        "final": round(final, 3),
        "draft": round(draft, 3),
        "draft_without_tiny_decoder": round(fallback, 3),
        "vae_share_of_final": round(big["vae_decode"] / final, 3),
        "draft_vs_final": round(draft / final, 3),
        "draft_without_tiny_decoder_vs_final": round(fallback / final, 3),
    }


def run_drafts(args: argparse.Namespace) -> dict:
    set_torch_threads(args)
    result = {"device": args.device, "mid_size": mid_size(args.device), "real_size": real_size(args.device)}
    result["goals"] = {
        "draft <= 0.35x final at 512² (real size)": result["real_size"]["draft_vs_final"] <= 0.35,
        "draft <= 0.5x final at 256² (mid size, as draft.py renders it)": min(
            result["mid_size"]["draft_vs_final"], result["mid_size"]["draft_without_tiny_decoder_vs_final"]
        )
        <= 0.5,
        "draft without a tiny decoder <= 0.35x final at 512²": result["real_size"][
            "draft_without_tiny_decoder_vs_final"
        ]
        <= 0.35,
    }
    return result


def drafts_table(r: dict) -> str:
    mid, real = r["mid_size"], r["real_size"]
    unit = "CPU s" if r["device"] == "cpu" else "s"
    lines = [
        f"Draft vs final, per frame ({unit}, {r['device']})",
        f"  mid-size at {mid['side']}², {mid['steps']} steps, the renderer, batch 1:",
        f"    final {mid['final']['cost']:.3f}   draft (tiny decoder) {mid['draft']['cost']:.3f} "
        f"({mid['draft_vs_final']:.2f}x)   draft without one {mid['draft_without_tiny_decoder']['cost']:.3f} "
        f"({mid['draft_without_tiny_decoder_vs_final']:.2f}x)   full VAE share of a final {mid['vae_share_of_final']:.0%}",
        f"    drafts of this model: {mid['draft_settings']}",
        f"  sd-turbo layout at {real['side']}², 1 step, batch 1, part by part:",
        f"    final {real['final']:.2f}   draft {real['draft']:.2f} ({real['draft_vs_final']:.2f}x)   "
        f"draft without a tiny decoder {real['draft_without_tiny_decoder']:.2f} "
        f"({real['draft_without_tiny_decoder_vs_final']:.2f}x)   full VAE share of a final {real['vae_share_of_final']:.0%}",
        f"    parts: {real['parts']}",
        goals_line(r["goals"]),
    ]
    return "\n".join(lines)
