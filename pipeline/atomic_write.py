"""Atomic writes: a file appears whole or not at all, and the temporaries a crash leaves are found.

`atomic_write(path, write)` lets `write` fill a temporary file in the target's folder, then
renames it into place, so a reader (or another process sharing the folder) never sees half a
file. Every temporary is named `.tmp-<pid>-<random><suffix>`: when its writer is killed, the
next writer into that folder (the frame store, video writing, the request workspace) deletes it
with `remove_orphan_temps`, once its process is gone or it is older than an hour.
"""

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_TEMP = re.compile(r"^\.tmp-(\d+)-")  # atomic_write's temporary files: .tmp-<pid>-<random><suffix>
_ORPHAN_AGE_S = 3600  # a temporary file this old is an orphan even if its pid was reused


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(temporary_path), then rename it to path; nothing half-written ever appears."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs (on this machine): a dead one's files are orphans."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def remove_orphan_temps(paths: Iterable[Path]) -> int:
    """Delete those of paths that are atomic_write temporaries of a dead process (or stale)."""
    cutoff = time.time() - _ORPHAN_AGE_S
    removed = 0
    for tmp in paths:
        match = _TEMP.match(tmp.name)
        if not match:
            continue
        try:
            orphan = not pid_alive(int(match[1])) or tmp.stat().st_mtime < cutoff
        except FileNotFoundError:  # its writer just renamed it into place
            continue
        if orphan:
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed
