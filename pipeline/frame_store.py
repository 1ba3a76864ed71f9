"""The frame store: rendered frames as PNG files on disk, named by their content key.

Writes are atomic (atomic_write.py), so a crash never leaves a half-written frame, and two
processes can share a store. PNGs are written with light zlib compression: up to 3x faster than
Pillow's default level on a 512x512 frame, files up to 1.6x larger; this store is a cache, and a
render writes every frame it makes. The store also remembers, per project, which key each
timeline position had when it was last rendered: that is how a frame knows it is stale
(rendered once, for other inputs).

The store has a size limit (`Limits.store_bytes`): `evict` deletes drafts first (draft.py; each
has an empty marker file under `drafts/`), then the least recently used frames (a frame's mtime
is refreshed whenever it is read) until the store fits, skipping frames `pinned` by a render in
progress in any process sharing the store.
"""

import contextlib
import json
import os
import re
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from .atomic_write import atomic_write, pid_alive, remove_orphan_temps
from .limits import limits
from .spacing import SpacingStore
from .timeline import FramePlan, FrameState

try:
    import fcntl
except ImportError:  # Windows: no lock, so an eviction may race another process's pinning
    fcntl = None

_KEY = re.compile(r"^[0-9a-f]{64}$")
PNG_COMPRESS_LEVEL = 1  # zlib level 0-9; Pillow's default is 6
READ_AHEAD = 8  # frames read_many decodes ahead of its consumer


class FrameStore:
    def __init__(self, root: Path, max_bytes: int | None = None, png_compress_level: int = PNG_COMPRESS_LEVEL):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = limits().store_bytes if max_bytes is None else max_bytes  # evict beyond this
        self.png_compress_level = png_compress_level

    @property
    def spacings(self) -> SpacingStore:
        """Even-spaced segments' t, kept beside the frames (spacing.py)."""
        return SpacingStore(self.root)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a frame key: {key!r}")
        return self.root / key[:2] / f"{key}.png"

    def has(self, key: str) -> bool:
        return self.path(key).exists()

    def read(self, key: str) -> np.ndarray:
        path = self.path(key)
        with Image.open(path) as image:
            frame = np.asarray(image.convert("RGB"))  # (H, W, 3) uint8
        with contextlib.suppress(OSError):  # a read-only store, or evicted just now
            os.utime(path)  # mark it recently used, for eviction
        return frame

    def read_many(self, keys: Iterable[str]) -> Iterator[np.ndarray]:
        """The frames of keys, in order, decoded a few ahead in two threads (Pillow releases the GIL)."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            ahead: deque = deque()
            for key in keys:
                ahead.append(pool.submit(self.read, key))
                if len(ahead) > READ_AHEAD:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def write(self, key: str, image: np.ndarray, draft: bool = False) -> None:
        """Store a frame; a `draft` is marked so that eviction takes drafts first."""
        level = self.png_compress_level
        if draft:  # the marker first: a crash in between leaves a marker of nothing, which is harmless
            marker = self._draft_marker(key)
            marker.parent.mkdir(exist_ok=True)
            marker.touch()
        atomic_write(self.path(key), lambda tmp: Image.fromarray(image).save(tmp, format="PNG", compress_level=level))

    def remove_orphans(self) -> int:
        """Delete temporary files (and pins) left by processes that died; returns how many files."""
        self._live_pins()
        return remove_orphan_temps(self.root.glob("*/.tmp-*"))

    @contextlib.contextmanager
    def pinned(self, keys: Iterable[str]) -> Iterator[None]:
        """Keep these frames from eviction (by any process sharing the store) while the block runs."""
        path = self.root / "pins" / f"{os.getpid()}-{uuid.uuid4().hex}.json"
        payload = json.dumps(sorted(set(keys)))
        with self._locked():
            atomic_write(path, lambda tmp: tmp.write_text(payload))
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def evict(self) -> int:
        """Delete least recently used unpinned frames until the store fits max_bytes; returns how many."""
        with self._locked():
            # 1. Every frame with its size and last use; nothing to do when they fit.
            frames = []
            for path in self.root.glob("[0-9a-f][0-9a-f]/*.png"):
                if not _KEY.match(path.stem):  # a write in progress (.tmp-*), not a frame
                    continue
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue
                frames.append((info.st_mtime_ns, info.st_size, path))
            total = sum(size for _, size, _ in frames)
            if total <= self.max_bytes:
                return 0
            # 2. Drafts first, then oldest first, skipping pinned frames, until the rest fits.
            pinned, drafts = self._pinned_keys(), self._draft_keys()
            removed = 0
            order = sorted((path.stem not in drafts, mtime, size, path) for mtime, size, path in frames)
            for _, _, size, path in order:
                if total <= self.max_bytes:
                    break
                if path.stem not in pinned:
                    path.unlink(missing_ok=True)
                    self._draft_marker(path.stem).unlink(missing_ok=True)
                    total -= size
                    removed += 1
            return removed

    def _draft_marker(self, key: str) -> Path:
        return self.root / "drafts" / self.path(key).stem

    def _draft_keys(self) -> set[str]:
        try:
            return set(os.listdir(self.root / "drafts"))
        except FileNotFoundError:
            return set()

    def _live_pins(self) -> list[Path]:
        """Pin files of live processes; those of dead ones (a crash) are deleted."""
        live = []
        for pin in (self.root / "pins").glob("*.json"):
            pid = pin.name.split("-")[0]
            if pid.isdigit() and pid_alive(int(pid)):
                live.append(pin)
            else:
                pin.unlink(missing_ok=True)
        return live

    def _pinned_keys(self) -> set[str]:
        keys: set[str] = set()
        for pin in self._live_pins():
            try:
                keys.update(json.loads(pin.read_text()))
            except (OSError, ValueError):  # released just now
                continue
        return keys

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time pins or evicts, so a frame seen present after pinning stays."""
        lock = self.root / "pins" / ".lock"
        lock.parent.mkdir(exist_ok=True)
        with open(lock, "a") as handle:
            if fcntl:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _positions_path(self, project_id: str) -> Path:
        return self.root / "positions" / f"{project_id}.json"

    def remember_positions(self, project_id: str, plans: list[FramePlan]) -> None:
        """Record the key each position has now, for the positions rendered."""
        known = self.last_positions(project_id)
        now = {str(p.index): p.key for p in plans if self.has(p.key)}
        if known.items() >= now.items():  # nothing new: a no-op render writes nothing
            return
        known.update(now)
        payload = json.dumps(known)
        atomic_write(self._positions_path(project_id), lambda tmp: tmp.write_text(payload))

    def last_positions(self, project_id: str) -> dict[str, str]:
        try:
            return dict(json.loads(self._positions_path(project_id).read_text()))
        except (OSError, ValueError):
            return {}

    def states(
        self, plans: list[FramePlan], project_id: str | None = None, drafts: list[FramePlan] | None = None
    ) -> list[FrameState]:
        """Each position's state; `drafts`: the draft plan of each position (draft.py), when they count."""
        previous = self.last_positions(project_id) if project_id else {}
        states = []
        for i, plan in enumerate(plans):
            if self.has(plan.key):  # a final shows, whatever drafts there are
                states.append(FrameState.KEYFRAME if plan.is_keyframe else FrameState.RENDERED)
            elif drafts is not None and self.has(drafts[i].key):
                states.append(FrameState.DRAFT)
            elif str(plan.index) in previous and self.has(previous[str(plan.index)]):
                states.append(FrameState.STALE)
            else:
                states.append(FrameState.MISSING)
        return states
