"""Helpers for tests that use the command line as a user does and look at what it left on disk."""

import json
import os
import subprocess
from pathlib import Path

from conftest import PYTHON, ROOT

from pipeline.__main__ import main


def run_cli(*args: str | Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m pipeline ARGS` in a fresh process (SDVC_HOME and HF_HUB_OFFLINE come from conftest)."""
    return subprocess.run(
        [PYTHON, "-m", "pipeline", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def cli_json(*args: str | Path) -> dict:
    """Run the CLI with --json; it must succeed, and its last stdout line is the result."""
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def main_json(capsys, *args: str | Path) -> dict:
    """The same command in this process (cheaper: the model stays loaded); it must succeed."""
    code = main([*map(str, args), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out.strip().splitlines()[-1])


def stored_frames(cache: Path) -> dict[str, Path]:
    """Every frame PNG in a store, by key (not the temporary files of writes in progress)."""
    return {path.stem: path for path in cache.glob("*/[0-9a-f]*.png")}


def tree_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder with its size and modification time, to prove nothing changed."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
