"""The benchmark's whole-process runs: the CLI (cold, and with every frame cached) and the peer.

Each runs in its own process, so that its wall and CPU time, its peak memory and what it
imported are read from outside, as a user would see them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ..project import Project, RenderSettings

ROOT = Path(__file__).resolve().parents[2]  # the repository: subprocesses import pipeline from here
DEFAULT_PEER_DIR = ROOT.parent / "shared" / "peer"  # beside the repository, as the team's worktrees have it

# Runs the CLI, then reports what it imported and its peak GPU memory on the last line.
_CLI_PROBE = """
import json, sys
from pipeline.__main__ import main
code = main(sys.argv[1:])
gpu = None
if "torch" in sys.modules:
    import torch
    gpu = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
print(json.dumps({"rc": code, "torch": "torch" in sys.modules, "diffusers": "diffusers" in sys.modules, "gpu": gpu}))
"""


# Starts the command from a small process and reports its rusage: a child's peak RSS counts the
# memory of the process that forked it, so the benchmark's own (model loaded) must not be that one.
_LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": time.perf_counter() - started, "rc": os.waitstatus_to_exitcode(status),
               "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, report)
"""


def run_process(argv: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run a command to its end: wall and CPU seconds and peak RSS (its children, such as ffmpeg,
    included), exit code, output lines."""
    with tempfile.TemporaryDirectory() as tmp:
        report, output = Path(tmp) / "report.json", Path(tmp) / "output.txt"
        with output.open("wb") as out:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), *argv],
                stdout=out,
                stderr=out,
                env=env,
                cwd=cwd,
                check=True,
            )
        usage = json.loads(report.read_text())
        lines = output.read_text(errors="replace").splitlines()
    return {
        "seconds": round(usage["seconds"], 3),
        "cpu_seconds": round(usage["cpu"], 3),
        "peak_rss_mb": round(usage["maxrss_kib"] / 1024, 1),
        "rc": usage["rc"],
        "lines": lines,
    }


def cli_render(project: Project, store_dir: Path, work: Path, env: dict[str, str], name: str) -> dict:
    """`python -m pipeline render PROJECT --json` in its own process, with what it imported."""
    project_file = work / f"{name}.json"
    project_file.write_text(json.dumps(project.to_json()))
    argv = [sys.executable, "-c", _CLI_PROBE, "render", str(project_file), "--out", str(work / f"{name}.mp4")]
    result = run_process([*argv, "--cache", str(store_dir), "--json"], env, ROOT)
    if result["rc"] != 0:
        raise RuntimeError(f"the CLI render failed ({result['rc']}): " + "\n".join(result["lines"][-20:]))
    report, probe = (json.loads(line) for line in result["lines"][-2:])
    return {
        "frames_total": report["frames_total"],
        "rendered": report["rendered"],
        "render_seconds": report["seconds"],
        "process_seconds": result["seconds"],
        "process_cpu_seconds": result["cpu_seconds"],
        "peak_rss_mb": result["peak_rss_mb"],
        "gpu_peak_mb": None if probe["gpu"] is None else round(probe["gpu"] / 2**20, 1),
        "torch_imported": probe["torch"],
        "diffusers_imported": probe["diffusers"],
    }


def peer_walk(
    peer_dir: Path, model_dir: Path, settings: RenderSettings, frames: int, batch: int, work: Path, env: dict
) -> dict:
    """The peer's walk() on the same model folder: its venv set up once by peer_dir/setup.sh, then
    peer_dir/walk.py as one timed process."""
    python = subprocess.run(["bash", str(peer_dir / "setup.sh")], check=True, capture_output=True, text=True)
    peer_python = python.stdout.strip().splitlines()[-1]
    argv = [
        peer_python,
        str(peer_dir / "walk.py"),
        str(model_dir),
        "--frames",
        str(frames),
        "--size",
        str(settings.width),
    ]
    argv += ["--steps", str(settings.steps), "--batch", str(batch), "--guidance", str(settings.guidance)]
    result = run_process([*argv, "--out", str(work / "peer-out")], env, work)
    if result["rc"] != 0:
        raise RuntimeError(f"the peer's walk failed ({result['rc']}): " + "\n".join(result["lines"][-20:]))
    reported = json.loads(result["lines"][-1])
    return {
        "frames": reported["frames"],
        "walk_seconds": reported["seconds"],
        "process_seconds": result["seconds"],
        "process_cpu_seconds": result["cpu_seconds"],
        "peak_rss_mb": result["peak_rss_mb"],
        "device": "cpu",  # walk.py never moves the pipeline off the CPU
    }
