"""The benchmark's measures, one after another on one loaded model: `run(args) -> dict`.

    1. re-render cost: a 5-keyframe, 100-frame project, one middle keyframe edited
    2. no-op render: every frame cached; seconds, and whether torch/diffusers were imported
    3. in-between frames/s of our renderer against the bare diffusers loop (same frames)
    4. batch scaling: our renderer at batch 1, 2, 4, 8
    5. mp4 encoding frames/s at 512x512
    6. peak memory of a whole CLI render (RSS; GPU memory on CUDA)
    7. with a peer folder: stable-diffusion-videos' walk() on the same model folder and frames
    8. smoothness of uniform, even and spline renders of one project, and the even probe's cost
    9. the soundtrack's analysis of a 3-minute track, cold and cached (soundtrack.py)
    10. the studio's timeline redraw at 1,440 frames: server time and bytes sent

The model comes from models.py; runs.py has the timed runs in this process, processes.py the
whole-process ones. Timings are medians of interleaved repeats after a warm-up, since the
machine may be shared. The dict also holds the machine, the settings, the targets and whether
each was met.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from ..presets import DEMO
from ..project import RenderSettings
from .models import SIZES, BenchSize, model_folder, model_name

BATCHES = (1, 2, 4, 8)
VIDEO_SIDE = 512
TARGETS = {"noop_seconds": 2.0, "time_ratio_vs_bare": 0.8, "mp4_fps": 200.0, "timeline_kb": 5.0, "timeline_ms": 5.0}


def _progress(step: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {step}", file=sys.stderr, flush=True)


def _machine(device: str) -> dict:
    import torch

    info = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": device,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _gflop_per_frame(backend, project) -> float:
    """Model compute of one in-between frame (UNet steps + VAE decode), counted, not timed."""
    from torch.utils.flop_counter import FlopCounterMode

    from ..conditioning import blend

    a, b = (backend.encode(project.settings, k) for k in project.keyframes[:2])
    with FlopCounterMode(display=False) as counter:
        backend.render(project.settings, [blend(a, b, 0.5, project.interpolation)])
    return round(counter.get_total_flops() / 1e9, 2)


def run(args: argparse.Namespace) -> dict:
    """Every measure, as one dict (see the module docstring for the list)."""
    size: BenchSize = SIZES[args.size]
    os.environ["SDVC_DEVICE"] = args.device  # read by models.pick_device, here and in subprocesses
    os.environ["HF_HUB_OFFLINE"] = "1"  # the benchmark builds its models; it never downloads
    threads = args.threads if args.threads is not None else (1 if args.device == "cpu" else 0)
    if threads:
        import torch

        os.environ["OMP_NUM_THREADS"] = str(threads)  # the CLI's and the peer's torch read it at start
        torch.set_num_threads(threads)
    from ..backends import LocalBackend
    from ..frame_store import FrameStore
    from ..models import load_model
    from ..renderer import DEFAULT_BATCH, project_frames
    from . import processes, runs, smooth, soundtrack

    if args.peer_note:
        _progress(args.peer_note)
    # 1. Build (once) and load the model; describe the settings.
    _progress("building and loading the model")
    name = model_name(size)
    settings = RenderSettings(name, size.width, size.height, size.steps, 0.0, "euler")
    load_t, model = runs.timed(lambda: load_model(name), args.device)
    backend = LocalBackend()
    repeats = args.repeats or size.repeats
    inbetweens = args.inbetweens or size.inbetweens
    walk_frames = args.walk_frames or size.walk_frames
    last = args.frames - 1
    edit_project = runs.make_project(settings, [round(i * last / 4) for i in range(5)])
    result: dict = {
        "machine": _machine(args.device),
        "settings": {
            "size": size.name,
            "model": DEMO if size.name == DEMO else Path(name).name,
            "width": size.width,
            "height": size.height,
            "steps": size.steps,
            "guidance": settings.guidance,
            "scheduler": settings.scheduler,
            "dtype": str(model.dtype).removeprefix("torch."),
            "batch": DEFAULT_BATCH,
            "repeats": repeats,
            "model_load_seconds": round(load_t.seconds, 3),
            "gflop_per_frame": _gflop_per_frame(backend, edit_project),
        },
    }
    with tempfile.TemporaryDirectory(prefix="sdvc-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(processes.ROOT)}
        # 2. Our renderer against the bare diffusers loop, at each batch size (warms up first).
        _progress("our renderer vs the bare diffusers loop")
        pair = runs.make_project(settings, [0, inbetweens + 1])
        result["throughput"] = runs.renderer_vs_bare(pair, work, backend, model, BATCHES, repeats, args.device)
        # 3. The edit story, with GPU memory measured over the full render.
        _progress("full render, edit, re-render")
        runs.reset_gpu_peak(args.device)
        store = FrameStore(work / "frames")
        story = runs.edit_story(edit_project, store, backend, DEFAULT_BATCH, args.device)
        edited = story.pop("edited_project")
        result["rerender"] = story
        gpu_peak_mb = runs.gpu_peak_mb(args.device)
        # 4. No-op: the edited project again, in a fresh process, every frame in the store.
        _progress("no-op render (CLI process)")
        result["noop"] = processes.cli_render(edited, store.root, work, env, "noop")
        # 5. mp4 encoding at 512x512 from the rendered frames.
        _progress("mp4 encoding")
        frames = project_frames(edited, store)
        result["video"] = runs.video_encoding(frames, work, VIDEO_SIDE, repeats, edited.fps)
        # 6. A whole cold CLI render (model load, frames, mp4) of a two-keyframe walk: memory, and the peer's match.
        _progress("cold CLI render (whole process)")
        walk = runs.make_project(settings, [0, walk_frames - 1])
        cold = processes.cli_render(walk, work / "cold-frames", work, env, "cold")
        result["memory"] = {
            "peak_rss_mb": cold["peak_rss_mb"],
            "gpu_peak_mb": gpu_peak_mb,  # over the edit story's two in-process renders
        }
        result["walk"] = {"frames": walk_frames, "ours_cli": cold}
        # 7. The peer on the same folder, frames, size and steps.
        if args.peer_dir is not None:
            _progress(f"the peer's walk() from {args.peer_dir}")
            peer = processes.peer_walk(
                args.peer_dir, model_folder(size), settings, walk_frames, DEFAULT_BATCH, work, env
            )
            result["walk"]["peer"] = peer
        elif args.peer_note:
            result["walk"]["peer_skipped"] = args.peer_note
        # 8. Smoothness: uniform, even spacing and spline on one three-keyframe project.
        _progress("smoothness: uniform, even, spline")
        three = runs.make_project(settings, [0, inbetweens + 1, 2 * inbetweens + 2])
        result["smoothness"] = smooth.smoothness_runs(three, work, backend, DEFAULT_BATCH, args.device)
        # 9. The soundtrack's analysis of a 3-minute track, cold and cached.
        _progress("soundtrack analysis (CLI process)")
        result["audio"] = soundtrack.audio_analysis(work, env)
        # 10. One timeline redraw of a 1,440-frame project (what the studio sends after each batch).
        _progress("timeline redraw at 1,440 frames")
        result["timeline"] = runs.timeline_redraw(settings, work, repeats)
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = TARGETS
    result["checks"] = _checks(result)
    return result


def _checks(r: dict) -> dict[str, bool]:
    """Each target of the issue, met or not, on the wall clock."""
    t = r["throughput"]
    ours = next(b for b in t["batches"] if b["batch"] == r["settings"]["batch"])
    return {
        "rerender_exactly_two_segments": r["rerender"]["exact"],
        "noop_without_torch": not (r["noop"]["torch_imported"] or r["noop"]["diffusers_imported"]),
        "noop_under_target": r["noop"]["process_seconds"] < TARGETS["noop_seconds"],
        "ratio_vs_bare_under_target": ours["seconds"] / t["bare"]["seconds"] <= TARGETS["time_ratio_vs_bare"],
        "mp4_fps_over_target": r["video"]["encode_fps"] >= TARGETS["mp4_fps"],
        "timeline_redraw_under_target": r["timeline"]["bytes"] <= TARGETS["timeline_kb"] * 1024
        and r["timeline"]["ms"] <= TARGETS["timeline_ms"],
    }
