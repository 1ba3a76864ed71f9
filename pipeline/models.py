"""Loading a model once per process, and pipelines with a chosen scheduler.

`load_model` loads a model name (see presets.py) once (cached, per memory options; see
memory.py), on CUDA in fp16, else MPS or CPU in fp32, and fails fast with a `ModelLoadError`
when it cannot (offline and not cached, missing, not a Stable Diffusion).
"""

import functools
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

import torch
from diffusers import (
    DDIMScheduler,
    DiffusionPipeline,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
)
from huggingface_hub import constants as hf_constants

from .errors import ModelLoadError
from .memory import ModelOptions, apply_memory_options, check_options, enable_offload
from .presets import DEMO, PRESETS, SCHEDULER_NAMES

_SCHEDULER_CLASSES = {
    "euler": (EulerDiscreteScheduler, {}),
    "dpm++2m": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "ddim": (DDIMScheduler, {"clip_sample": False}),
    "lcm": (LCMScheduler, {"clip_sample": False}),  # stochastic between steps: see backends.py
}
assert set(_SCHEDULER_CLASSES) == set(SCHEDULER_NAMES)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A loaded pipeline and where it runs. Never mutated after loading."""

    name: str  # as the user gave it
    pipe: StableDiffusionPipeline | StableDiffusionXLPipeline
    device: torch.device
    dtype: torch.dtype
    pipelines: Mapping[str, StableDiffusionPipeline | StableDiffusionXLPipeline]  # by scheduler name

    @property
    def is_sdxl(self) -> bool:
        return isinstance(self.pipe, StableDiffusionXLPipeline)

    def latent_shape(self, width: int, height: int) -> tuple[int, int, int]:
        factor = self.pipe.vae_scale_factor
        return (self.pipe.unet.config.in_channels, height // factor, width // factor)


def pick_device() -> tuple[torch.device, torch.dtype]:
    """CUDA in fp16, else MPS or CPU in fp32; SDVC_DEVICE overrides the device."""
    wanted = os.environ.get("SDVC_DEVICE")
    if wanted:
        device = torch.device(wanted)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    return device, torch.float16 if device.type == "cuda" else torch.float32


def model_source(name: str) -> str:
    """The folder or hub id that `from_pretrained` loads for a model name."""
    if name == DEMO:
        from .demo_model import demo_model_dir  # builds the demo model on first use

        return str(demo_model_dir())
    return PRESETS[name].model_id if name in PRESETS else name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _check_hub_reachable(name: str) -> None:
    """One quick connection instead of the hub client's minute of retries when offline."""
    url = urlparse(hf_constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=5).close()
    except OSError as exc:
        raise ModelLoadError(
            f"could not load model {name!r}: it is not in the local cache and {url.hostname} cannot be reached ({exc})"
        ) from None


def _pipeline_class(source: str, local_only: bool) -> type:
    config = DiffusionPipeline.load_config(source, local_files_only=local_only)
    class_name = config.get("_class_name", "")
    # Text-to-image pipelines only: an img2img-only refiner (no first text encoder), an inpainting
    # or upscaling UNet would fail later with a far less clear error.
    for cls in (StableDiffusionPipeline, StableDiffusionXLPipeline):
        if class_name == cls.__name__:
            return cls
    raise ModelLoadError(
        f"{source} holds a {class_name or 'unknown'} pipeline, not a text-to-image Stable Diffusion or SDXL one"
    )


def _from_pretrained(source: str, dtype: torch.dtype, local_only: bool):
    cls = _pipeline_class(source, local_only)
    extra = {"safety_checker": None, "requires_safety_checker": False} if cls is StableDiffusionPipeline else {}
    variant = "fp16" if dtype == torch.float16 and not Path(source).is_dir() else None
    try:
        return cls.from_pretrained(source, dtype=dtype, local_files_only=local_only, variant=variant, **extra)
    except (OSError, ValueError):
        if variant is None:
            raise
        return cls.from_pretrained(source, dtype=dtype, local_files_only=local_only, **extra)


def load_model(name: str, options: ModelOptions | None = None) -> LoadedModel:
    """Load a model once per process and options; raises ModelLoadError (quickly) when it cannot.

    Options left at None (or no options) take the device's defaults (memory.py).
    """
    device, _ = pick_device()
    resolved = (ModelOptions() if options is None else options).resolve(device)
    check_options(resolved, device, name)
    return _load_model(name, resolved)


@functools.lru_cache(maxsize=1)  # one model in memory at a time: switching frees the last
def _load_model(name: str, options: ModelOptions) -> LoadedModel:
    device, dtype = pick_device()
    source = model_source(name)
    is_folder = Path(source).is_dir()
    if not is_folder and (source.startswith((".", "/", "~")) or source.count("/") != 1):
        raise ModelLoadError(f"model {name!r} is neither a preset ({', '.join(PRESETS)}), a model folder nor a hub id")
    try:
        try:  # the local cache first: no network round trip when the model is there
            pipe = _from_pretrained(source, dtype, local_only=True)
        except (OSError, ValueError):
            if is_folder:
                raise
            if _offline():
                raise ModelLoadError(
                    f"could not load model {name!r}: it is not in the local cache and HF_HUB_OFFLINE is set"
                ) from None
            _check_hub_reachable(name)
            pipe = _from_pretrained(source, dtype, local_only=False)
    except ModelLoadError:
        raise
    except Exception as exc:
        where = "the folder" if is_folder else "the local cache or the Hugging Face Hub"
        raise ModelLoadError(f"could not load model {name!r} from {where}: {str(exc).splitlines()[0]}") from exc
    if not options.cpu_offload:  # offloaded models stay on the CPU until they run
        pipe = pipe.to(device)
    apply_memory_options(pipe, options)
    scheduled = _scheduled_pipelines(pipe)
    if options.cpu_offload:
        enable_offload([pipe, *scheduled.values()], device)
    return LoadedModel(name, pipe, device, dtype, MappingProxyType(scheduled))


def with_components(pipe, **components):
    """A new pipeline of pipe's class sharing its weights, with some components replaced."""
    if isinstance(pipe, StableDiffusionXLPipeline):  # no watermark: pixels must not depend on an optional package
        extra = {"add_watermarker": False, "force_zeros_for_empty_prompt": pipe.config.force_zeros_for_empty_prompt}
    else:
        extra = {"requires_safety_checker": False}
    made = type(pipe)(**{**pipe.components, **components}, **extra)
    made.set_progress_bar_config(disable=True)
    return made


def _scheduled_pipelines(pipe) -> dict:
    """One pipeline per scheduler, all sharing the same weights; built once, never mutated."""
    scheduled = {}
    for name, (cls, options) in _SCHEDULER_CLASSES.items():
        scheduled[name] = with_components(pipe, scheduler=cls.from_config(pipe.scheduler.config, **options))
    return scheduled
