"""The renderer: render only the frames whose keys are not in the store, in batches.

`iter_render` is the whole job as numbered steps and yields after every batch, so a UI can
redraw the timeline while it runs; `render_project` runs it to the end with a progress
callback. A backend does the model work (see backends.py). When nothing is missing, neither
torch nor the model is even imported: a no-op render costs a few stat calls. While a render
runs, every frame of its project is pinned in the store; after rendering, the store evicts
least recently used frames beyond its size limit.

Pixels across batchings: the same frame key rendered in the same batching (the same frames
batched together, the same batch size) gives byte-identical PNGs, so two fresh caches of one
project are identical. In another batching (a batch of 3 instead of 8, a frame alone, another
frame beside it, another CPU) float rounding in the model's kernels may differ, so a frame may
differ by at most BATCHING_MAX_LEVELS levels (of 255) in any value and by at most
BATCHING_MEAN_LEVELS levels on average over the frame. The store keeps whichever render came first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .frame_store import FrameStore
from .project import Keyframe, Project, RenderSettings
from .timeline import FramePlan, frames_of_segments, keyframe_key, plan_timeline

if TYPE_CHECKING:
    import torch

    from .conditioning import Conditioning

DEFAULT_BATCH = 8
BATCHING_MAX_LEVELS = 2  # the most one value of a frame may differ between two batchings (of 255)
BATCHING_MEAN_LEVELS = 0.01  # the most a frame's mean absolute difference may be between two batchings


class Backend(Protocol):
    """Does the model work; `backends.LocalBackend` runs it in this process, `remote.RemoteBackend`
    on another instance of the app."""

    rendered: int  # frames rendered so far

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> Conditioning: ...

    def render(self, settings: RenderSettings, frames: list[dict[str, torch.Tensor]]) -> list[np.ndarray]: ...

    def check_fits(self, conditioning: Conditioning, name: str) -> None:
        """Raise InputError naming `name` unless a conditioning from outside suits the model."""


@dataclass(frozen=True)
class RenderReport:
    frames_total: int  # frames in the selection
    rendered: int
    reused: int
    seconds: float
    evicted: int = 0  # least recently used frames the store deleted to stay under its size limit


@dataclass(frozen=True)
class RenderProgress:
    done: int  # frames rendered so far
    total: int  # frames to render in this run
    report: RenderReport


def missing_frames(plans: list[FramePlan], store: FrameStore) -> list[FramePlan]:
    """Plans whose frame is not in the store, each key once."""
    seen: set[str] = set()
    missing = []
    for plan in plans:
        if plan.key not in seen and not store.has(plan.key):
            seen.add(plan.key)
            missing.append(plan)
    return missing


def iter_render(
    project: Project,
    store: FrameStore,
    backend: Backend,
    *,
    segments: set[int] | None = None,
    batch_size: int = DEFAULT_BATCH,
    project_id: str | None = None,
    keyframes_only: bool = False,
) -> Iterator[RenderProgress]:
    plans = plan_timeline(project)
    with store.pinned(plan.key for plan in plans):  # no eviction touches this project's frames meanwhile
        yield from _render_missing(project, plans, store, backend, segments, batch_size, project_id, keyframes_only)


def _render_missing(
    project: Project,
    plans: list[FramePlan],
    store: FrameStore,
    backend: Backend,
    segments: set[int] | None,
    batch_size: int,
    project_id: str | None,
    keyframes_only: bool,
) -> Iterator[RenderProgress]:
    """Render what is missing and yield after each batch; `keyframes_only` renders just the keyframes' frames."""
    started = time.perf_counter()
    # 1. Keep the selected segments' frames of the plan (or only the keyframes).
    if segments is not None:
        plans = frames_of_segments(plans, segments)
    if keyframes_only:
        plans = [p for p in plans if p.is_keyframe]
    # 2. Find what is missing; with nothing missing, the model is never loaded.
    missing = missing_frames(plans, store)

    def progress(done: int) -> RenderProgress:
        report = RenderReport(len(plans), done, len(plans) - len(missing), round(time.perf_counter() - started, 3))
        return RenderProgress(done, len(missing), report)

    if not missing:
        if project_id:  # the frames may come from another project file sharing the store
            store.remember_positions(project_id, plans)
        yield progress(0)
        return
    # 3. Encode each keyframe the missing frames need, once. (torch is imported only now.)
    from .conditioning import blend

    needed = {p.start for p in missing} | {p.end for p in missing}
    encoded = {k: backend.encode(project.settings, k) for k in sorted(needed, key=lambda k: k.frame)}
    # 4. Render batch by batch; PNG writing overlaps the next batch.
    with ThreadPoolExecutor(max_workers=2) as writer:
        pending: list[Future] = []
        done = 0
        for first in range(0, len(missing), batch_size):
            batch = missing[first : first + batch_size]
            tensors = [blend(encoded[p.start], encoded[p.end], p.t, project.interpolation) for p in batch]
            images = backend.render(project.settings, tensors)
            for future in pending:
                future.result()
            if pending:
                yield progress(done)
            pending = [writer.submit(store.write, p.key, image) for p, image in zip(batch, images, strict=True)]
            done += len(batch)
        for future in pending:
            future.result()
    # 5. Remember which key each position has, for the stale state.
    if project_id:
        store.remember_positions(project_id, plans)
    # 6. Keep the store under its size limit; this project's frames are pinned.
    last = progress(done)
    yield replace(last, report=replace(last.report, evicted=store.evict()))


def render_project(
    project: Project,
    store: FrameStore,
    backend: Backend,
    *,
    segments: set[int] | None = None,
    batch_size: int = DEFAULT_BATCH,
    project_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderReport:
    """Render every missing frame of the project (or of the selected segments)."""
    for step in iter_render(project, store, backend, segments=segments, batch_size=batch_size, project_id=project_id):
        if progress:
            progress(step.done, step.total)
    return step.report


def project_frames(project: Project, store: FrameStore) -> list[np.ndarray]:
    """Every frame of the timeline, in order; all must be rendered."""
    return list(iter_project_frames(project, store))


def iter_project_frames(project: Project, store: FrameStore) -> Iterator[np.ndarray]:
    """Every frame of the timeline, in order, read ahead while the consumer (a video writer) works."""
    return store.read_many(plan.key for plan in plan_timeline(project))


def render_keyframe(
    settings: RenderSettings, keyframe: Keyframe, store: FrameStore, backend: Backend
) -> tuple[np.ndarray, Conditioning]:
    """A keyframe's image (from the store when it is there) and its conditioning."""
    conditioning = backend.encode(settings, keyframe)
    key = keyframe_key(settings, keyframe)
    with store.pinned([key]):
        if not store.has(key):
            store.write(key, backend.render(settings, [conditioning.tensors])[0])
            store.evict()
        return store.read(key), conditioning
