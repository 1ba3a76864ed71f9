"""The Ray backend's scaling: `python -m pipeline.bench.ray_scaling [--frames N] [--workers 1 2] [--json OUT]`.

For each worker count, a fresh local Ray cluster of that many CPUs (one per worker) renders a
two-keyframe demo-model project: the seconds the workers take to load the model, then frames/s
of the render itself (model loaded), beside the same frames rendered by LocalBackend on one CPU.
It also measures what bounds the driver whatever the cluster: the bytes a frame sends back, and
the store's PNG write of a 512x512 frame (seconds and bytes). Needs requirements-ray.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _project(folder: Path, frames: int):
    from ..project import load_project

    path = folder / "project.json"
    keyframes = [{"frame": 0, "prompt": "a red fox", "seed": 1}, {"frame": frames - 1, "prompt": "a city", "seed": 2}]
    settings = {"model": "demo", "width": 64, "height": 64, "steps": 4, "guidance": 0.0, "fps": 8}
    path.write_text(json.dumps({**settings, "keyframes": keyframes}))
    return load_project(path)


def _ray_run(project, folder: Path, workers: int) -> dict:
    import ray

    from ..frame_store import FrameStore
    from ..ray_backend import RayBackend
    from ..renderer import render_project

    ray.init(address="local", num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    backend = RayBackend(workers=workers)
    try:
        started = time.perf_counter()
        backend.load(project.settings.model)  # every worker loads the model, in parallel
        load_s = time.perf_counter() - started
        report = render_project(
            project, FrameStore(folder / f"ray-{workers}"), backend, batch_size=backend.frames_per_call
        )
    finally:
        backend.close()
        ray.shutdown()
    return {"workers": workers, "model_load_s": round(load_s, 2), "fps": round(report.rendered / report.seconds, 2)}


def _local_run(project, folder: Path) -> dict:
    import torch

    from ..backends import LocalBackend
    from ..frame_store import FrameStore
    from ..models import load_model
    from ..renderer import render_project

    torch.set_num_threads(1)  # one CPU, as each Ray worker has
    load_model(project.settings.model)
    report = render_project(project, FrameStore(folder / "local"), LocalBackend())
    return {"fps": round(report.rendered / report.seconds, 2)}


def _store_write(folder: Path, side: int = 512) -> dict:
    """A 512x512 frame's raw bytes (what a worker sends), and the store's PNG write of it."""
    from ..frame_store import FrameStore

    store = FrameStore(folder / "writes")
    y, x = np.mgrid[0:side, 0:side]
    smooth = np.stack([x * 255 // side, y * 255 // side, (x + y) * 255 // (2 * side)], axis=-1).astype(np.uint8)
    noisy = np.clip(smooth + np.random.default_rng(0).normal(0, 8, smooth.shape), 0, 255).astype(np.uint8)
    key = "0" * 64
    started = time.perf_counter()
    for _ in range(10):
        store.write(key, noisy)  # a picture with texture: neither flat nor pure noise
    seconds = (time.perf_counter() - started) / 10
    return {"raw_bytes": noisy.nbytes, "png_bytes": store.path(key).stat().st_size, "png_write_s": round(seconds, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench.ray_scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="frames of the project (default 32)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.frames < 2 or min(args.workers) < 1:
        raise SystemExit("error: --frames must be at least 2 and --workers at least 1")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="sdvc-bench-ray-") as tmp:
        folder = Path(tmp)
        project = _project(folder, args.frames)
        result = {
            "frames": args.frames,
            "cores": os.cpu_count(),
            "local_one_cpu": _local_run(project, folder),
            "ray": [_ray_run(project, folder, workers) for workers in args.workers],
            "frame_512": _store_write(folder),
        }
    for run in result["ray"]:
        print(f"{run['workers']} worker(s): {run['fps']} frames/s, model load {run['model_load_s']} s per worker")
    print(f"local, one CPU: {result['local_one_cpu']['fps']} frames/s; a 512x512 frame: {result['frame_512']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
