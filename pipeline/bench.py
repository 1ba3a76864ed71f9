"""The benchmark: `python -m pipeline.bench [--json OUT] [--device cpu|cuda] [--size small|real] [--peer]`.

One run measures, side by side, on a random-weight model it builds itself (bench_models.py):

    1. re-render cost: a 5-keyframe, 100-frame project, one middle keyframe edited
    2. no-op render: every frame cached; seconds, and whether torch/diffusers were imported
    3. in-between frames/s of our renderer against the bare diffusers loop (same frames)
    4. batch scaling: our renderer at batch 1, 2, 4, 8
    5. mp4 encoding frames/s at 512x512
    6. peak memory of a whole CLI render (RSS; GPU memory on CUDA)
    7. with --peer: stable-diffusion-videos' walk() on the same model folder and frames

It prints a table and writes the numbers as JSON. Timings are medians of interleaved repeats
after a warm-up, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from .bench_models import SIZES, BenchSize, model_folder, model_name
from .presets import DEMO
from .project import RenderSettings

BATCHES = (1, 2, 4, 8)
VIDEO_SIDE = 512
TARGETS = {"noop_seconds": 2.0, "time_ratio_vs_bare": 0.8, "mp4_fps": 200.0}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the model runs (default cpu)")
    parser.add_argument(
        "--size", choices=tuple(SIZES), default="small", help="small: CPU-sized; real: SD 1.5 for a GPU; demo: tests"
    )
    parser.add_argument("--frames", type=int, default=100, help="frames of the 5-keyframe project (default 100)")
    parser.add_argument("--inbetweens", type=int, help="in-between frames in runs 3 and 4 (default: by size)")
    parser.add_argument("--repeats", type=int, help="repeats of each timed run; medians are reported")
    parser.add_argument("--walk-frames", type=int, help="frames of the CLI and peer walk (default: by size)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads, here and in the CLI and peer processes (default: 1 on --device cpu, since "
        "contention on a shared machine slows multi-threaded torch erratically; 0: torch's default)",
    )
    parser.add_argument("--peer", action="store_true", help="also time the peer, stable-diffusion-videos' walk()")
    return parser


def _check(args: argparse.Namespace) -> None:
    """Every option at the boundary, each message naming the option and its value."""
    minimums = {
        "frames": 9,
        "inbetweens": 1,
        "repeats": 1,
        "walk_frames": 2,
        "threads": 0,
    }  # frames: 5 keyframes 2 apart
    for name, low in minimums.items():
        value = getattr(args, name)
        if value is not None and value < low:
            raise SystemExit(f"error: --{name.replace('_', '-')} must be at least {low}, got {value}")
    if args.peer and args.device == "cuda":
        raise SystemExit("error: --peer needs --device cpu: the peer's walk.py never moves its model off the CPU")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("error: --device cuda, but torch sees no CUDA device")


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

    from .conditioning import blend

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
    from . import bench_processes as processes
    from . import bench_runs as runs
    from .backends import LocalBackend
    from .frame_store import FrameStore
    from .models import load_model
    from .renderer import DEFAULT_BATCH, project_frames

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
        if args.peer:
            _progress("the peer's walk()")
            peer = processes.peer_walk(model_folder(size), settings, walk_frames, DEFAULT_BATCH, work, env)
            result["walk"]["peer"] = peer
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
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def _rows(r: dict) -> list[tuple[str, str, str, str, str]]:
    """One row per measure: what, ours, the reference, ours/reference (wall; CPU time), target or check."""
    s, t, re, noop, v, w = r["settings"], r["throughput"], r["rerender"], r["noop"], r["video"], r["walk"]
    ours = next(b for b in t["batches"] if b["batch"] == s["batch"])
    full, edit = re["full"], re["edit"]
    gpu = r["memory"]["gpu_peak_mb"]
    rows = [
        ("measure", "ours", "reference", "ratio: wall (cpu)", "target / check"),
        (
            f"1 re-render after 1 edit ({re['frames_total']} fr)",
            f"{edit['frames']} fr {edit['seconds']:.2f} s",
            f"full: {full['frames']} fr {full['seconds']:.2f} s",
            f"{_ratio(edit['seconds'], full['seconds'])} ({_ratio(edit['cpu_seconds'], full['cpu_seconds'])})",
            f"exactly 2 segments ({re['expected_frames']} fr): {'yes' if re['exact'] else 'NO'}",
        ),
        (
            f"2 no-op render ({noop['frames_total']} fr cached)",
            f"{noop['render_seconds']:.2f} s render, {noop['process_seconds']:.2f} s process, {noop['peak_rss_mb']:.0f} MB",
            "",
            "",
            f"< {TARGETS['noop_seconds']:.0f} s; torch imported: {'yes' if noop['torch_imported'] else 'no'}",
        ),
        (
            f"3 in-betweens vs bare diffusers ({t['frames']} fr)",
            f"{ours['fps']:.2f} fr/s",
            f"bare loop {t['bare']['fps']:.2f} fr/s",
            f"{_ratio(ours['seconds'], t['bare']['seconds'])} ({_ratio(ours['cpu_seconds'], t['bare']['cpu_seconds'])})",
            f"<= {TARGETS['time_ratio_vs_bare']}x; max pixel diff {t['max_pixel_diff']}",
        ),
        (
            "4 batch scaling (fr/s)",
            ", ".join(f"b{b['batch']} {b['fps']:.2f}" for b in t["batches"]),
            "batch 1",
            f"b{t['batches'][-1]['batch']}: {_ratio(t['batches'][0]['seconds'], t['batches'][-1]['seconds'])} "
            f"({_ratio(t['batches'][0]['cpu_seconds'], t['batches'][-1]['cpu_seconds'])}) speed",
            "",
        ),
        (
            f"5 mp4 {v['width']}x{v['height']} ({v['preset']}, crf {v['crf']})",
            f"{v['encode_fps']:.0f} fr/s; {v['assembly_fps']:.0f} with PNG reads; {v['bytes_per_frame'] // 1024} KB/fr",
            f"x264 medium {v['medium']['encode_fps']:.0f} fr/s; {v['medium']['bytes_per_frame'] // 1024} KB/fr",
            f"{_ratio(v['encode_fps'], v['medium']['encode_fps'])} ({_ratio(v['encode_cpu_fps'], v['medium']['encode_cpu_fps'])}) speed",
            f">= {TARGETS['mp4_fps']:.0f} fr/s",
        ),
        (
            "6 peak memory (CLI render)",
            f"RSS {r['memory']['peak_rss_mb']:.0f} MB" + (f", GPU {gpu:.0f} MB" if gpu is not None else ""),
            "",
            "",
            "",
        ),
    ]
    cold, peer = w["ours_cli"], w.get("peer")
    per_frame = f"{w['frames'] / cold['process_seconds']:.2f} fr/s"
    rows.append(
        (
            f"7 walk {w['frames']} fr, whole process",
            f"CLI {cold['process_seconds']:.2f} s ({per_frame})",
            f"peer {peer['process_seconds']:.2f} s ({w['frames'] / peer['process_seconds']:.2f} fr/s)"
            if peer
            else "peer: --peer",
            f"{_ratio(cold['process_seconds'], peer['process_seconds'])} "
            f"({_ratio(cold['process_cpu_seconds'], peer['process_cpu_seconds'])}) time"
            if peer
            else "",
            f"after an edit: ours {edit['frames']} fr, peer all {re['frames_total']}" if peer else "",
        )
    )
    return rows


def table(r: dict) -> str:
    """The results side by side, with the settings and the machine above them."""
    s, m = r["settings"], r["machine"]
    rows = _rows(r)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        f"SD Video Creator benchmark: {s['size']} model {s['model']} ({s['gflop_per_frame']} GFLOP/frame), "
        f"{s['width']}x{s['height']}, {s['steps']} steps, guidance {s['guidance']}, {s['dtype']}, batch {s['batch']}, "
        f"medians of {s['repeats']}",
        f"machine: {m['device']} ({m.get('gpu', m['cpu'])}), {m['cores']} cores, torch {m['torch']} "
        f"({m['torch_threads']} CPU threads), load average {m['load_average'][0]} before, "
        f"{m['load_average_after'][0]} after",
    ]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _check(args)
    result = run(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
