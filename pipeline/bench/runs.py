"""The benchmark's timed runs in this process, each returning plain numbers (measure.py runs them).

They share one loaded model: the re-render story, our renderer against the bare diffusers loop
at several batch sizes, mp4 encoding (processes.py has the whole-process runs).
Every timing has wall seconds and CPU seconds (all threads, and child processes such as
ffmpeg): on a shared CPU the wall clock swings with the neighbours' load, the CPU time much
less. Timings on CUDA synchronize the device before the clock is read.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..backends import Backend
from ..frame_store import FrameStore
from ..project import Keyframe, Project, RenderSettings
from ..renderer import encode_sources, render_project
from ..timeline import plan_timeline
from ..video import DEFAULT_CRF, DEFAULT_PRESET, write_video

PROMPTS = (
    "a glass greenhouse in fog",
    "a copper robot tending roses",
    "a lighthouse at dawn",
    "a night market in the rain",
    "a red fox in the snow",
)


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def reset_gpu_peak(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def gpu_peak_mb(device: str) -> float | None:
    """Peak GPU memory allocated since reset_gpu_peak, or None off CUDA."""
    if device != "cuda":
        return None
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


@dataclass(frozen=True)
class Timing:
    seconds: float  # wall clock
    cpu_seconds: float  # CPU time of this process's threads and of the children it waited for

    def as_dict(self) -> dict:
        return {"seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3)}


def _cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(run: Callable[[], object], device: str) -> tuple[Timing, object]:
    """How long a call takes, the device's queued work included."""
    sync(device)
    wall, cpu = time.perf_counter(), _cpu_now()
    result = run()
    sync(device)
    return Timing(time.perf_counter() - wall, _cpu_now() - cpu), result


def median(timings: list[Timing]) -> Timing:
    """Wall and CPU medians, each on its own."""
    return Timing(statistics.median(t.seconds for t in timings), statistics.median(t.cpu_seconds for t in timings))


def make_project(settings: RenderSettings, positions: list[int], fps: int = 12) -> Project:
    keyframes = tuple(Keyframe(f, PROMPTS[i % len(PROMPTS)], seed=i + 1) for i, f in enumerate(positions))
    return Project(settings, keyframes, fps=fps)


# 1. Re-render after one edit ------------------------------------------------------------


def edit_story(project: Project, store: FrameStore, backend: Backend, batch: int, device: str) -> dict:
    """Render everything, edit the middle keyframe, render again: what was redone, and how long."""
    full_t, full = timed(lambda: render_project(project, store, backend, batch_size=batch), device)
    middle = len(project.keyframes) // 2
    keyframes = list(project.keyframes)
    keyframes[middle] = replace(keyframes[middle], prompt=keyframes[middle].prompt + ", in autumn")
    edited = replace(project, keyframes=tuple(keyframes))
    edit_t, edit = timed(lambda: render_project(edited, store, backend, batch_size=batch), device)
    # The two segments touching the edited keyframe, without their unchanged outer keyframes.
    expected = range(keyframes[middle - 1].frame + 1, keyframes[middle + 1].frame)
    changed = [a.index for a, b in zip(plan_timeline(project), plan_timeline(edited), strict=True) if a.key != b.key]
    return {
        "frames_total": project.frame_count,
        "full": {"frames": full.rendered, **full_t.as_dict()},
        "edit": {"frames": edit.rendered, "reused": edit.reused, **edit_t.as_dict()},
        "expected_frames": len(expected),
        "exact": edit.rendered == len(expected) and changed == list(expected),
        "edited_project": edited,
    }


# 3, 4. Our renderer against the bare diffusers loop, and batch scaling --------------------


def bare_diffusers_loop(pipe, settings: RenderSettings, frames: list[dict], out_dir: Path, device, dtype) -> None:
    """The simplest loop a diffusers user writes: one pipeline call per frame, then save it."""
    for i, tensors in enumerate(frames):
        image = pipe(
            **{name: t.to(device, dtype) for name, t in tensors.items()},
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance,
            width=settings.width,
            height=settings.height,
        ).images[0]
        image.save(out_dir / f"{i:05d}.png")


def renderer_vs_bare(
    project: Project, work: Path, backend: Backend, model, batches: tuple[int, ...], repeats: int, device: str
) -> dict:
    """In-between frames/s of our renderer at each batch size and of the bare loop, same frames.

    The bare loop is handed every frame's tensors ready-made (not timed); ours is timed from the
    project's keyframes: planning, encoding, blending, rendering and writing the frames.
    """
    store = FrameStore(work / "throughput-frames")
    plans = plan_timeline(project)
    inbetweens = [p for p in plans if not p.is_keyframe]
    render_project(project, store, backend, batch_size=max(batches))  # warm-up; keyframe frames stay
    encoded = encode_sources(inbetweens, backend)
    tensors = [p.recipe.mix(encoded) for p in inbetweens]
    pipe = model.pipelines[project.settings.scheduler]
    bare_dir = work / "bare-frames"
    bare_dir.mkdir(exist_ok=True)
    bare_diffusers_loop(pipe, project.settings, tensors[:1], bare_dir, model.device, model.dtype)  # warm-up

    def ours(batch: int) -> Timing:
        for plan in inbetweens:
            store.path(plan.key).unlink()
        timing, report = timed(lambda: render_project(project, store, backend, batch_size=batch), device)
        assert report.rendered == len(inbetweens), report
        return timing

    def bare() -> Timing:
        return timed(
            lambda: bare_diffusers_loop(pipe, project.settings, tensors, bare_dir, model.device, model.dtype), device
        )[0]

    samples: dict[str, list[Timing]] = {"bare": [], **{f"batch {b}": [] for b in batches}}
    for _ in range(repeats):  # interleaved, so a noisy neighbour hits every variant alike
        samples["bare"].append(bare())
        for b in batches:
            samples[f"batch {b}"].append(ours(b))
    medians = {name: median(values) for name, values in samples.items()}
    diff = max(
        int(np.abs(store.read(p.key).astype(int) - np.asarray(Image.open(bare_dir / f"{i:05d}.png")).astype(int)).max())
        for i, p in enumerate(inbetweens)
    )
    n = len(inbetweens)

    def rate(timing: Timing) -> dict:
        return {**timing.as_dict(), "fps": round(n / timing.seconds, 3), "cpu_fps": round(n / timing.cpu_seconds, 3)}

    return {
        "frames": n,
        "bare": rate(medians["bare"]),
        "batches": [{"batch": b, **rate(medians[f"batch {b}"])} for b in batches],
        "max_pixel_diff": diff,  # ours vs the bare loop's PNGs, 0-255
        "samples": {name: [round(t.seconds, 3) for t in timings] for name, timings in samples.items()},
    }


# 5. Video encoding ------------------------------------------------------------------------


def video_encoding(frames: list[np.ndarray], work: Path, side: int, repeats: int, fps: int) -> dict:
    """mp4 frames/s at side x side: encoding frames in memory, and assembly from the frame store.

    Assembly is what a render ends with: read every frame's PNG, encode. x264's medium preset
    (its own default) is timed once, on a third of the frames, for the file size it would save.
    """
    big = [np.asarray(Image.fromarray(f).resize((side, side), Image.BICUBIC)) for f in frames]
    store = FrameStore(work / "video-frames")
    keys = [f"{i:064x}" for i in range(len(big))]
    for key, frame in zip(keys, big, strict=True):
        store.write(key, frame)
    path = work / "encode.mp4"
    write_video(big[:4], path, fps)  # warm-up: ffmpeg's first start reads its binary from disk
    encode = median([timed(lambda: write_video(big, path, fps), "cpu")[0] for _ in range(repeats)])
    size = path.stat().st_size
    assemble = median([timed(lambda: write_video(store.read_many(keys), path, fps), "cpu")[0] for _ in range(repeats)])
    third = big[: max(1, len(big) // 3)]
    medium, _ = timed(lambda: write_video(third, path, fps, preset="medium"), "cpu")
    return {
        "width": side,
        "height": side,
        "frames": len(big),
        "preset": DEFAULT_PRESET,
        "crf": DEFAULT_CRF,
        "encode_fps": round(len(big) / encode.seconds, 1),
        "encode_cpu_fps": round(len(big) / encode.cpu_seconds, 1),  # frames per CPU-second, all cores
        "assembly_fps": round(len(big) / assemble.seconds, 1),
        "assembly_cpu_fps": round(len(big) / assemble.cpu_seconds, 1),
        "bytes_per_frame": size // len(big),
        "medium": {
            "encode_fps": round(len(third) / medium.seconds, 1),
            "encode_cpu_fps": round(len(third) / medium.cpu_seconds, 1),
            "bytes_per_frame": path.stat().st_size // len(third),
        },
    }


def timeline_redraw(settings: RenderSettings, work: Path, repeats: int, frames: int = 1440) -> dict:
    """One studio timeline redraw of a `frames`-frame project, half its frames in the store: the
    server's time (plan, states, payload, JSON) and the bytes sent."""
    import json

    from ..timeline_payload import timeline_payload

    project = make_project(settings, [*range(0, frames - 1, 240), frames - 1])
    store = FrameStore(work / "timeline-frames")
    tiny = np.zeros((8, 8, 3), dtype=np.uint8)  # a redraw only checks that frames exist
    for plan in plan_timeline(project)[: frames // 2]:
        store.write(plan.key, tiny)

    def redraw() -> str:
        plans = plan_timeline(project, store.spacings)
        payload = timeline_payload(project, store.states(plans, "bench"), store, lambda p: f"/gradio_api/file={p}")
        return json.dumps(payload)

    sent = redraw()  # warm-up
    runs = [timed(redraw, "cpu")[0] for _ in range(max(repeats, 5))]
    return {"frames": frames, "bytes": len(sent.encode()), "ms": round(median(runs).seconds * 1000, 2)}
