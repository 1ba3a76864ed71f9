"""Fast mode against exact, and channels_last: `python -m pipeline.bench --fast-mode [--size S] [--device D] [--json OUT]`.

Two measures on the size's model (default `small`, the mid-size one) at 256² (or the size's own
side when larger), guidance 0, batch 1:

    fast mode      FAST_FRAMES in-betweens of a 25-step euler project through the renderer
                   (LocalBackend), exact and then in fast mode (feature_reuse.py), every frame new:
                   seconds per frame, the speed-up, and the PSNR of each fast frame against its exact one
    channels_last  one frame at the size's own steps through the model's pipeline, and through a
                   pipeline of channels_last copies of its UNet and VAE, interleaved repeats: the
                   ratio, and the most any pixel differs (levels of 255)

Ratios use CPU seconds on the CPU and wall seconds on a GPU, as drafts.py does.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..backends import LocalBackend
from ..frame_store import FrameStore
from ..project import RenderSettings
from ..timeline import plan_timeline
from .drafts import cost_of, goals_line, per_frame, set_torch_threads
from .models import SIZES, model_name
from .runs import make_project, median, sync, timed

FAST_SIDE = 256
FAST_STEPS = 25
FAST_FRAMES = 4  # in-betweens per variant: one to warm up, three timed
CHANNELS_LAST_REPEATS = 3  # interleaved, the median of each reported
SPEEDUP_GOAL = 1.6


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf when equal)."""
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else round(float(10 * np.log10(255**2 / error)), 2)


def fast_vs_exact(size_name: str, device: str) -> dict:
    size = SIZES[size_name]
    side = max(size.width, FAST_SIDE)
    exact = RenderSettings(model_name(size), side, side, FAST_STEPS, 0.0, "euler")
    fast = replace(exact, fast=True)
    backend = LocalBackend()
    with tempfile.TemporaryDirectory() as folder:
        store = FrameStore(Path(folder))
        result = {
            "model": size_name,
            "side": side,
            "steps": FAST_STEPS,
            "exact": per_frame(exact, store, backend, device, None, FAST_FRAMES),
            "fast": per_frame(fast, store, backend, device, None, FAST_FRAMES),
        }
        pairs = zip(*(plan_timeline(make_project(s, [0, FAST_FRAMES + 1])) for s in (exact, fast)), strict=True)
        scores = [psnr(store.read(a.key), store.read(b.key)) for a, b in pairs if not a.is_keyframe]
    result["speedup"] = round(result["exact"]["cost"] / result["fast"]["cost"], 3)
    result["psnr_min"], result["psnr_mean"] = min(scores), round(float(np.mean(scores)), 2)
    return result


def channels_last(size_name: str, device: str) -> dict:
    """The model's pipeline against one of channels_last copies of its UNet and VAE (the model stays as it is)."""
    import copy

    import torch

    from ..models import load_model, with_components

    size = SIZES[size_name]
    side = max(size.width, FAST_SIDE)
    model = load_model(model_name(size))
    pipe = model.pipelines["euler"]
    last = with_components(
        pipe,
        unet=copy.deepcopy(pipe.unet).to(memory_format=torch.channels_last),
        vae=copy.deepcopy(pipe.vae).to(memory_format=torch.channels_last),
    )
    generator = torch.Generator().manual_seed(0)
    text = torch.randn(1, 77, pipe.text_encoder.config.hidden_size, generator=generator).to(model.device, model.dtype)
    latents = torch.randn(1, *model.latent_shape(side, side), generator=generator).to(model.device, model.dtype)

    def frame(p) -> np.ndarray:
        images = p(
            prompt_embeds=text,
            latents=latents,
            num_inference_steps=size.steps,
            guidance_scale=0.0,
            width=side,
            height=side,
            output_type="np",
        ).images
        return (images[0] * 255).round().clip(0, 255).astype(np.uint8)

    timings: dict[str, list] = {"contiguous": [], "channels_last": []}
    with torch.inference_mode():
        pictures = {"contiguous": frame(pipe), "channels_last": frame(last)}  # warm-up
        sync(device)
        for _ in range(CHANNELS_LAST_REPEATS):
            for name, p in (("contiguous", pipe), ("channels_last", last)):
                timings[name].append(timed(lambda p=p: frame(p), device)[0])
    costs = {name: round(cost_of(median(t), device), 4) for name, t in timings.items()}
    difference = np.abs(pictures["contiguous"].astype(int) - pictures["channels_last"].astype(int))
    return {
        "model": size_name,
        "side": side,
        "steps": size.steps,
        **costs,
        "channels_last_vs_contiguous": round(costs["channels_last"] / costs["contiguous"], 3),
        "max_pixel_diff": int(difference.max()),
    }


def run_fast(args: argparse.Namespace) -> dict:
    set_torch_threads(args)
    result = {
        "device": args.device,
        "fast_mode": fast_vs_exact(args.size, args.device),
        "channels_last": channels_last(args.size, args.device),
    }
    result["goals"] = {
        f"fast mode >= {SPEEDUP_GOAL}x exact at 25 steps": result["fast_mode"]["speedup"] >= SPEEDUP_GOAL
    }
    return result


def fast_table(r: dict) -> str:
    fast, last = r["fast_mode"], r["channels_last"]
    unit = "CPU s" if r["device"] == "cpu" else "s"
    lines = [
        f"Fast mode vs exact, per frame ({unit}, {r['device']})",
        f"  {fast['model']} model at {fast['side']}², {fast['steps']} steps (euler), the renderer, batch 1:",
        f"    exact {fast['exact']['cost']:.3f}   fast {fast['fast']['cost']:.3f}   speed-up {fast['speedup']:.2f}x   "
        f"PSNR fast vs exact: min {fast['psnr_min']:.1f} dB, mean {fast['psnr_mean']:.1f} dB",
        f"channels_last UNet and VAE, {last['model']} model at {last['side']}², {last['steps']} steps, one frame:",
        f"    contiguous {last['contiguous']:.3f}   channels_last {last['channels_last']:.3f} "
        f"({last['channels_last_vs_contiguous']:.2f}x)   max pixel diff {last['max_pixel_diff']}",
        goals_line(r["goals"]),
    ]
    return "\n".join(lines)
