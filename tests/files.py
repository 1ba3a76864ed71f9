"""Files on disk in tests: what a folder holds, and conditioning files written as any client could.

files_under lists what a test may have written (the repository, the session's home), leaving
out caches and tool folders; saved writes tensors and metadata as a `.safetensors` file,
valid or corrupted on purpose, without the project's own checks.
"""

import os
from pathlib import Path

from safetensors.torch import save_file

NOT_FILES = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".venv"}  # caches and tools


def files_under(*roots: Path) -> set[Path]:
    """Every file under the roots, NOT_FILES folders left out."""
    found = set()
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in NOT_FILES]
            found.update(Path(folder, n) for n in names)
    return found


def saved(path: Path, tensors: dict, metadata: dict) -> Path:
    save_file({k: v.clone().contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
    return path
