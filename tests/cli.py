"""Helpers for tests that use the command line as a user does and look at what it left on disk.

run_cli runs `python -m pipeline ARGS` in a fresh process to its end; start_cli starts one to
kill it mid-way; run_main and main_json run the same command's main in this process (cheaper:
the model stays loaded).
"""

import json
import os
import subprocess
from pathlib import Path

from conftest import PYTHON, ROOT

from pipeline.__main__ import main


def _argv(args: tuple, module: str, code: str | None) -> list[str]:
    return [PYTHON, *(["-c", code] if code else ["-m", module]), *map(str, args)]


def run_cli(
    *args: str | Path, env: dict | None = None, timeout: float = 300, module: str = "pipeline"
) -> subprocess.CompletedProcess:
    """`python -m pipeline ARGS` (or another `module`) in a fresh process, to its end, its output captured.

    SDVC_HOME and HF_HUB_OFFLINE come from conftest; env adds variables to them.
    """
    return subprocess.run(
        _argv(args, module, None),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def start_cli(*args: str | Path, code: str | None = None, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    """`python -m pipeline ARGS` started, not waited for (to kill it mid-way); with code,
    `python -c CODE ARGS` instead: a CLI with a part replaced. The caller waits for it.

    Its stderr is the test's (pytest shows it when the test fails)."""
    return subprocess.Popen(_argv(args, "pipeline", code), cwd=ROOT, stdout=stdout, text=True)


def cli_json(*args: str | Path, timeout: float = 300) -> dict:
    """Run the CLI with --json; it must succeed, and its last stdout line is the result."""
    result = run_cli(*args, "--json", timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_main(capsys, *args: str | Path) -> tuple[int, str, str]:
    """The CLI's main in this process, as the console runs it: exit status, stdout, stderr."""
    capsys.readouterr()  # what the test printed before is not the command's
    code = main(list(map(str, args)))
    out = capsys.readouterr()
    return code, out.out, out.err


def main_json(capsys, *args: str | Path) -> dict:
    """run_main with --json; it must succeed, and its last stdout line is the result."""
    code, out, err = run_main(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def stored_frames(cache: Path) -> dict[str, Path]:
    """Every frame PNG in a store, by key (not the temporary files of writes in progress)."""
    return {path.stem: path for path in cache.glob("*/[0-9a-f]*.png")}


def tree_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder with its size and modification time, to prove nothing changed."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
