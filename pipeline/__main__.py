"""The command line: `python -m pipeline render|status PROJECT.json ...`.

    python -m pipeline render project.json --out video.mp4 [--cache DIR] [--json]
    python -m pipeline status project.json [--cache DIR] [--json]

Bad input exits with status 2 and one line on stderr; a model that cannot load, status 1.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

from tqdm import tqdm

from .backends import LocalBackend
from .errors import InputError, ModelLoadError
from .frame_store import FrameStore
from .presets import cache_root
from .project import load_project
from .renderer import iter_project_frames, render_project
from .timeline import FrameState, plan_timeline, segment_status
from .video import FORMATS, write_video

_STATE_CHARS = {FrameState.KEYFRAME: "K", FrameState.RENDERED: "#", FrameState.MISSING: ".", FrameState.STALE: "~"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Render SD Video Creator projects.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render the missing frames and write the video")
    render.add_argument("project", type=Path, help="project JSON file")
    render.add_argument("--out", type=Path, required=True, help="video file to write (.mp4 or .gif)")
    render.add_argument("--batch", type=int, default=8, help="frames per model call (default 8)")
    status = commands.add_parser("status", help="show each segment's and frame's state")
    status.add_argument("project", type=Path, help="project JSON file")
    for command in (render, status):
        command.add_argument("--cache", type=Path, help="frame store folder (default: the user cache)")
        command.add_argument("--json", action="store_true", help="end with one JSON line on stdout")
    return parser


def project_id(path: Path) -> str:
    """Positions of a project file are remembered under its absolute path."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]


def _render(args: argparse.Namespace) -> dict:
    if args.out.suffix.lower() not in FORMATS:
        raise InputError(f"--out must end in {' or '.join(FORMATS)}, got {args.out.name!r}")
    if not 1 <= args.batch <= 64:
        raise InputError(f"--batch must be between 1 and 64, got {args.batch}")
    project = load_project(args.project)
    store = FrameStore(args.cache or cache_root() / "frames")
    store.remove_orphans()
    with tqdm(total=0, unit="frame", desc="render", disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = render_project(
            project,
            store,
            LocalBackend(),
            batch_size=args.batch,
            project_id=project_id(args.project),
            progress=progress,
        )
    video = write_video(iter_project_frames(project, store), args.out, project.fps)
    print(f"{report.frames_total} frames: {report.rendered} rendered, {report.reused} reused; wrote {video}")
    return {**report.__dict__, "video": str(video)}


def _status(args: argparse.Namespace) -> dict:
    project = load_project(args.project)
    store = FrameStore(args.cache or cache_root() / "frames")
    plans = plan_timeline(project)
    states = store.states(plans, project_id(args.project))
    summary = segment_status(project, states)
    for s in summary:
        seg = s.segment
        print(f"segment {seg.index}: frames {seg.first}-{seg.last}  {s.rendered}/{s.total} rendered  {s.state}")
    print("frames: " + "".join(_STATE_CHARS[s] for s in states) + "   (K keyframe, # rendered, ~ stale, . missing)")
    return {
        "frames_total": len(plans),
        "rendered": sum(s in (FrameState.RENDERED, FrameState.KEYFRAME) for s in states),
        "stale": states.count(FrameState.STALE),
        "missing": states.count(FrameState.MISSING),
        "segments": [
            {
                "index": s.segment.index,
                "first": s.segment.first,
                "last": s.segment.last,
                "rendered": s.rendered,
                "total": s.total,
                "state": s.state,
            }
            for s in summary
        ],
        "frames": [{"index": p.index, "state": s.value, "key": p.key} for p, s in zip(plans, states, strict=True)],
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _render(args) if args.command == "render" else _status(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; frames rendered so far are kept", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
