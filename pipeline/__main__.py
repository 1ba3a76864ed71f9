"""The command line: `python -m pipeline render|status PROJECT.json ...`, `python -m pipeline audio FILE`.

    python -m pipeline render project.json --out video.mp4 [--cache DIR] [--store-limit SIZE] [--json] [--draft] [--fast]
        [--offload] [--[no-]attention-slicing] [--[no-]vae-slicing] [--[no-]vae-tiling]
        [--remote URL_OR_SPACE_ID [--hf-token-env VAR]] [--ray [ADDRESS] [--ray-workers N]]
    python -m pipeline status project.json [--cache DIR] [--json] [--fast]
    python -m pipeline audio song.mp3 [--fps N] [--json]

Bad input exits with status 2 and one line on stderr; a model that cannot load or a remote that
fails (unreachable, gone mid-render, another model), status 1. With --remote, the model work
runs on another instance of the app (see remote.py); with --ray, on the workers of a Ray cluster
(see ray_backend.py: no ADDRESS starts one here, `auto` joins the running one; Ray is imported
only then). Frames are stored here as always.
PROJECT may also be a bundle (.zip of the JSON and its files, see bundle.py).
The limits (image size, steps, frames, prompt length, store size) come from SDVC_* variables:
see limits.py.
"""

import argparse
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from .audio_track import load_audio_upload
from .backends import Backend, LocalBackend
from .bundle import opened_project
from .draft import draft_settings, plan_drafts
from .errors import ClusterError, InputError, ModelLoadError, RemoteError, check_integer
from .export import check_video_path, export_video
from .frame_store import FrameStore
from .limits import Limits, env_var, format_bytes, parse_bytes
from .memory import ModelOptions
from .presets import cache_root
from .project import MAX_FPS, Project, fast_mode
from .ray_backend import LOCAL, RayBackend
from .remote import RemoteBackend, token_from_env
from .smoothness import segment_scores
from .timeline import FrameState, plan_timeline, segment_status
from .video import FORMATS

_STATE_CHARS = {
    FrameState.KEYFRAME: "K",
    FrameState.RENDERED: "#",
    FrameState.MISSING: ".",
    FrameState.STALE: "~",
    FrameState.DRAFT: "d",
}


def _size(text: str) -> int:
    try:
        size = parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, got {text!r}")
    return size


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pipeline", description="Render SD Video Creator projects.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render the missing frames and write the video")
    render.add_argument("project", type=Path, help="project JSON file or bundle (.zip)")
    render.add_argument("--out", type=Path, required=True, help="video file to write (.mp4 or .gif)")
    render.add_argument("--batch", type=int, default=8, help="frames per model call (default 8)")
    render.add_argument(
        "--draft",
        action="store_true",
        help="a quick preview: drafts (tiny decoder) of the frames with no final; the video shows finals where they exist",
    )
    memory = render.add_argument_group("memory options for small GPUs (default: what helps on this device)")
    memory.add_argument("--offload", action="store_true", help="keep each model on the CPU until it runs (CUDA)")
    for flag, what in (
        ("attention-slicing", "attention in slices (default: on MPS only)"),
        ("vae-slicing", "decode a batch one frame at a time (default: on GPUs)"),
        ("vae-tiling", "decode big frames in tiles (default: on CUDA)"),
    ):
        memory.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None, help=what)
    render.add_argument(
        "--store-limit",
        type=_size,
        metavar="SIZE",
        help=f"frame store size (e.g. 500M, 2G) beyond which least recently used frames are deleted "
        f"(default: {env_var('store_bytes')} or {format_bytes(Limits().store_bytes)})",
    )
    remote = render.add_argument_group("rendering on a remote instance of the app (a GPU Space)")
    remote.add_argument("--remote", metavar="URL_OR_SPACE_ID", help="its URL or Hugging Face Space id")
    remote.add_argument("--hf-token-env", metavar="VAR", help="environment variable holding its token (private Space)")
    ray = render.add_argument_group("rendering on the workers of a Ray cluster (pip install -r requirements-ray.txt)")
    ray.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        metavar="ADDRESS",
        help="auto (the running cluster), HOST:PORT or ray://HOST:PORT; no ADDRESS: start a local cluster",
    )
    ray.add_argument("--ray-workers", type=int, metavar="N", help="workers (default: one per GPU, else one per node)")
    status = commands.add_parser("status", help="show each segment's and frame's state")
    status.add_argument("project", type=Path, help="project JSON file or bundle (.zip)")
    for command in (render, status):
        command.add_argument("--cache", type=Path, help="frame store folder (default: the user cache)")
        command.add_argument("--json", action="store_true", help="end with one JSON line on stdout")
        command.add_argument(
            "--fast",
            action="store_true",
            help='fast mode, as the project\'s "fast": true: reuse deep UNet features between steps '
            "(models of 8 steps or more; pixels differ slightly from the exact render)",
        )
    _add_audio_command(commands)
    return parser


def _add_audio_command(commands: argparse._SubParsersAction) -> None:
    audio = commands.add_parser("audio", help="a soundtrack's duration, tempo and beats")
    audio.add_argument("file", type=Path, help="audio file (WAV, FLAC, OGG or MP3)")
    audio.add_argument("--fps", type=int, default=8, help="frame rate for the beats' frames (default 8)")
    audio.add_argument("--json", action="store_true", help="end with one JSON line on stdout")


def project_id(path: Path) -> str:
    """Positions of a project file are remembered under its absolute path."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]


def model_options(args: argparse.Namespace) -> ModelOptions:
    """The memory flags of `render`; those not given stay None (the device's default)."""
    return ModelOptions(
        attention_slicing=args.attention_slicing,
        vae_slicing=args.vae_slicing,
        vae_tiling=args.vae_tiling,
        cpu_offload=args.offload,
    )


def _open_store(cache: Path | None, max_bytes: int | None = None) -> FrameStore:
    folder = cache or cache_root() / "frames"
    try:
        return FrameStore(folder, max_bytes=max_bytes)
    except OSError as exc:
        raise InputError(f"--cache: cannot use {folder} as the frame store folder ({exc.strerror})") from None


def _check_out_folder(out: Path) -> None:
    """Find an unwritable --out before rendering, not after."""
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name ending in {' or '.join(FORMATS)}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out: cannot create the folder {out.parent} ({exc.strerror})") from None


def make_backend(args: argparse.Namespace) -> Backend:
    """The remote of --remote (with the token of --hf-token-env), the cluster of --ray, or the local model;
    the memory flags go to wherever the model loads."""
    if args.ray_workers is not None:
        check_integer(args.ray_workers, "--ray-workers", 1, 1024)
        if args.ray is None:
            raise InputError("--ray-workers is for --ray only")
    if args.ray is not None:
        if args.remote:
            raise InputError("--ray and --remote: render on one of them, not both")
        return RayBackend(args.ray, workers=args.ray_workers, batch_size=args.batch, options=model_options(args))
    if args.remote:
        return RemoteBackend(args.remote, token_from_env(args.hf_token_env))
    if args.hf_token_env:
        raise InputError("--hf-token-env is for --remote only")
    return LocalBackend(model_options(args))


def _render(args: argparse.Namespace) -> dict:
    check_video_path(args.out, "--out")
    check_integer(args.batch, "--batch", 1, 64)
    with opened_project(args.project) as project:
        return _render_project(args, _as_asked(args, project))


def _as_asked(args: argparse.Namespace, project: Project) -> Project:
    """The project in fast mode when --fast says so."""
    return fast_mode(project) if args.fast else project


def _render_project(args: argparse.Namespace, project: Project) -> dict:
    _check_out_folder(args.out)
    backend = make_backend(args)
    store = _open_store(args.cache, args.store_limit)
    store.remove_orphans()
    try:
        return _render_with(args, project, store, backend)
    finally:
        if isinstance(backend, RayBackend):
            backend.close()


def _render_with(args: argparse.Namespace, project: Project, store: FrameStore, backend: Backend) -> dict:
    if notice := project.settings.fast_notice:
        print(f"note: {notice}", file=sys.stderr)
    if args.draft and (notice := draft_settings(project.settings).notice):
        print(f"note: {notice}", file=sys.stderr)
    # A Ray cluster takes one --batch per worker at a time.
    batch = backend.frames_per_call if isinstance(backend, RayBackend) else args.batch
    with tqdm(total=0, unit="frame", desc="render", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        export = export_video(
            project,
            store,
            backend,
            args.out,
            batch_size=batch,
            project_id=project_id(args.project),
            progress=progress,
            draft=args.draft,
        )
    report = export.report
    evicted = f"; evicted {report.evicted} least recently used frames" if report.evicted else ""
    print(
        f"{report.frames_total} frames: {report.rendered} rendered, {report.reused} reused; wrote {export.video}{evicted}"
    )
    stats = export.stats()
    if isinstance(backend, RayBackend):
        stats["ray"] = backend.stats()
    return stats


def _status(args: argparse.Namespace) -> dict:
    store = _open_store(args.cache)
    with opened_project(args.project) as project:
        project = _as_asked(args, project)
        plans = plan_timeline(project, store.spacings)
    states = store.states(plans, project_id(args.project), plan_drafts(project, plans))
    summary = segment_status(project, states)
    measured = segment_scores(store, plans, [s.segment for s in summary])  # None until all rendered
    for s, m in zip(summary, measured, strict=True):
        seg = s.segment
        smooth = f"  smoothness {m.smoothness:.3f}, max jump {m.max_jump:.2f}" if m else ""
        print(f"segment {seg.index}: frames {seg.first}-{seg.last}  {s.rendered}/{s.total} rendered  {s.state}{smooth}")
    legend = "(K keyframe, # rendered, d draft, ~ stale, . missing)"
    print("frames: " + "".join(_STATE_CHARS[s] for s in states) + f"   {legend}")
    return {
        "frames_total": len(plans),
        "rendered": sum(s in (FrameState.RENDERED, FrameState.KEYFRAME) for s in states),
        "drafts": states.count(FrameState.DRAFT),  # frames showing a draft: they have no final yet
        "stale": states.count(FrameState.STALE),
        "missing": states.count(FrameState.MISSING),
        "segments": [
            {
                "index": s.segment.index,
                "first": s.segment.first,
                "last": s.segment.last,
                "rendered": s.rendered,
                "drafts": s.drafts,
                "total": s.total,
                "state": s.state,
                **(m.as_dict() if m else dict.fromkeys(("smoothness", "consistency", "max_jump"))),
            }
            for s, m in zip(summary, measured, strict=True)
        ],
        "frames": [{"index": p.index, "state": s.value, "key": p.key} for p, s in zip(plans, states, strict=True)],
    }


def _audio(args: argparse.Namespace) -> dict:
    """The track's analysis, and the frame of each beat at --fps (the nearest frame)."""
    fps = check_integer(args.fps, "--fps", 1, MAX_FPS)
    summary = load_audio_upload(args.file, f"audio file {args.file}").summary()
    beat_frames = [round(b * fps) for b in summary["beats"]]
    print(f"{args.file}: {summary['duration']:.2f} s, {summary['tempo']:.1f} BPM, {len(beat_frames)} beats")
    print(f"beats at {fps} fps: frames " + " ".join(map(str, beat_frames)))
    return {**summary, "fps": fps, "beat_frames": beat_frames}


def _print_error(exc: Exception) -> None:
    """One line on stderr, even when a value in the message holds a line break."""
    print("error: " + " ".join(str(exc).splitlines()), file=sys.stderr)


def _quiet_libraries() -> None:
    """Run as a program, only our own messages reach stderr: no library warnings or log lines."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    warnings.simplefilter("ignore")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = {"render": _render, "status": _status, "audio": _audio}[args.command](args)
    except InputError as exc:
        _print_error(exc)
        return 2
    except (ModelLoadError, RemoteError, ClusterError) as exc:
        _print_error(exc)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; frames rendered so far are kept", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    _quiet_libraries()
    sys.exit(main())
