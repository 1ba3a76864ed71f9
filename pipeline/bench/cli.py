"""The benchmark's command line: `python -m pipeline.bench [--size demo|small|real] [--device cpu|cuda] [--json OUT] [--peer] [--peer-dir DIR]`.

Options are checked here, once, each message naming the option and its value; then
measure.run does the work and table.table prints it. `--peer-dir DIR` is the folder holding
the peer's setup.sh and walk.py (it implies `--peer`); `--peer` alone takes `../shared/peer`
beside the repository, and when there is none, the benchmark runs without the peer and says so.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .drafts import drafts_table, run_drafts
from .fast import fast_table, run_fast
from .measure import run
from .models import SIZES
from .processes import DEFAULT_PEER_DIR
from .table import table

PEER_FILES = ("setup.sh", "walk.py")  # what a peer folder holds (the team's shared/peer)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.bench",
        description="Times re-renders, no-op renders, our renderer against bare diffusers, batch sizes, mp4 "
        "encoding and memory on a random-weight model it builds, and the peer beside them.",
    )
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
    parser.add_argument(
        "--drafts", action="store_true", help="only draft vs final per frame, mid-size and real-size (see drafts.py)"
    )
    parser.add_argument(
        "--fast-mode",
        action="store_true",
        help="only fast mode vs exact at 25 steps (speed-up, PSNR) and channels_last (see fast.py)",
    )
    parser.add_argument("--peer", action="store_true", help="also time the peer, stable-diffusion-videos' walk()")
    parser.add_argument(
        "--peer-dir",
        type=Path,
        help=f"the peer's folder, holding {' and '.join(PEER_FILES)}; implies --peer "
        f"(default: {DEFAULT_PEER_DIR} when it exists, else the peer is skipped with a note)",
    )
    return parser


def _holds_peer(folder: Path) -> bool:
    return all((folder / name).is_file() for name in PEER_FILES)


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
    if args.peer_dir is not None and not _holds_peer(args.peer_dir):
        raise SystemExit(f"error: --peer-dir {args.peer_dir} does not hold the peer's {' and '.join(PEER_FILES)}")
    if (args.peer or args.peer_dir is not None) and args.device == "cuda":
        raise SystemExit("error: --peer needs --device cpu: the peer's walk.py never moves its model off the CPU")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("error: --device cuda, but torch sees no CUDA device")


def _choose_peer(args: argparse.Namespace) -> None:
    """args.peer_dir: the peer folder to time, or None; args.peer_note: why the peer asked for is skipped."""
    args.peer_note = None
    if args.peer_dir is not None or not args.peer:
        return
    if _holds_peer(DEFAULT_PEER_DIR):
        args.peer_dir = DEFAULT_PEER_DIR
    else:
        args.peer_note = (
            f"peer skipped: no {' and '.join(PEER_FILES)} in {DEFAULT_PEER_DIR} (--peer-dir DIR names the folder)"
        )


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked, with the peer folder chosen."""
    args = _parser().parse_args(argv)
    _check(args)
    _choose_peer(args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    if args.drafts:
        result = run_drafts(args)
        print(drafts_table(result))
    elif args.fast_mode:
        result = run_fast(args)
        print(fast_table(result))
    else:
        result = run(args)
        print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0
