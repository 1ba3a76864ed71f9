"""Model presets and scheduler names: plain data, cheap to import (no torch, no diffusers).

A model name is a preset below, a diffusers model id on the Hub, or a local folder holding a
diffusers Stable Diffusion / SDXL pipeline. `models.py` does the loading.
"""

import os
from dataclasses import dataclass
from pathlib import Path

DEMO = "demo"
DEMO_VERSION = "demo-v1"  # bump when the demo model's architecture or weights change


@dataclass(frozen=True)
class Preset:
    model_id: str  # hub id; "" for the demo model, which is built locally
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str


PRESETS: dict[str, Preset] = {
    DEMO: Preset("", 64, 64, 4, 0.0, "euler"),
    # Distilled turbo models: 1-4 steps, no guidance.
    "sd-turbo": Preset("stabilityai/sd-turbo", 512, 512, 2, 0.0, "euler"),
    "sdxl-turbo": Preset("stabilityai/sdxl-turbo", 512, 512, 2, 0.0, "euler"),
    "sd-1.5": Preset("stable-diffusion-v1-5/stable-diffusion-v1-5", 512, 512, 25, 7.5, "dpm++2m"),
}
# Defaults for any other model id or folder.
OTHER_MODEL = Preset("", 512, 512, 25, 7.5, "dpm++2m")

# No ancestral or SDE scheduler: fresh noise at every step makes neighbouring in-betweens
# flicker. LCM's multi-step sampling does inject noise between steps, so the renderer gives
# every frame the same fixed per-step noise (backends.py), whatever the batch it is in.
# models.py maps each name to its diffusers class.
SCHEDULER_NAMES = ("euler", "dpm++2m", "ddim", "lcm")


def preset_for(model: str) -> Preset:
    return PRESETS.get(model, OTHER_MODEL)


def cache_root() -> Path:
    """Where the project keeps its own files (the demo model, frames): $SDVC_HOME or the user cache."""
    configured = os.environ.get("SDVC_HOME")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sd-video-creator"
