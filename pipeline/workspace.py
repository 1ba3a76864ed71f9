"""The app's own folder for the files it hands out: one fresh folder per request, old ones pruned.

Uploaded and generated files never share a folder between requests, so one request cannot
read or overwrite another's files; folders older than a day are removed on the next request,
and at start-up (`clean_up`) with the temporary files a killed server left behind.
"""

import shutil
import tempfile
import time
from pathlib import Path

from .atomic_write import remove_orphan_temps
from .presets import cache_root

MAX_AGE_S = 24 * 3600  # a request's files are kept this long for downloads


def workspace_root() -> Path:
    """Where request folders live: <cache root>/requests."""
    return cache_root() / "requests"


def request_dir(root: Path | None = None, max_age_s: float = MAX_AGE_S) -> Path:
    """A new empty folder for one request's output files; prunes folders older than max_age_s."""
    root = Path(root or workspace_root())
    root.mkdir(parents=True, exist_ok=True)
    prune(root, max_age_s)
    return Path(tempfile.mkdtemp(dir=root, prefix="req-"))


def prune(root: Path, max_age_s: float) -> int:
    """Remove request folders older than max_age_s; returns how many were removed."""
    cutoff = time.time() - max_age_s
    removed = 0
    for folder in root.glob("req-*"):
        try:
            old = folder.stat().st_mtime < cutoff
        except FileNotFoundError:  # removed by another request just now
            continue
        if old:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def clean_up(root: Path | None = None, max_age_s: float = MAX_AGE_S) -> int:
    """At start-up: remove old request folders, and the temporary files (a half-written video) that
    processes which died left in the others; returns how many were removed."""
    root = Path(root or workspace_root())
    root.mkdir(parents=True, exist_ok=True)
    return prune(root, max_age_s) + remove_orphan_temps(root.glob("req-*/.tmp-*"))
