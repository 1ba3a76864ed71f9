"""The renderer: one render core, and the planners that hand it frames.

`render_frames` is the only loop that renders. It takes planned frames (frame_recipe.py: each a
content key and its recipe) and does, as numbered steps: pin every frame of the call (and any
`keep` keys) against eviction, find the keys not in the store, encode each source those need
once, render them in batches through a backend (backends.py), write each batch's PNGs while
the next batch renders, evict least recently used frames beyond the store's limit, and report,
yielding progress after each batch (the studio redraws its timeline from it). When nothing is
missing, neither torch nor the model is even imported: a no-op render costs a few stat calls.

Every path is a planner that makes planned frames and calls the core:

    iter_render / render_project   the project's frames (all, selected segments, or keyframes only)
    render_keyframe                one keyframe's frame (/generate, /encode_image)
    candidates.render_candidates   a keyframe from consecutive seeds, in one batch (/candidates)
    inbetweens.render_inbetweens   in-betweens of two conditioning files (/interpolate)

A new way to render is a planner or a backend, never a fifth loop: other t values (audio
timing, even spacing) are a planner choosing t (timeline.segment_fractions; even spacing's
probe, probe.py, renders through this same core before the project is planned); drafts are a
planner with draft settings and a tag in their recipes' keys; a frame made from more keyframes
(a spline path) is a recipe with more sources (frame_recipe.py); another place to render (a Ray
cluster) is a backend, whose `render` may spread one call's frames over its workers (give it a
batch as large as they take together).

Pixels across batchings: the same frame key rendered in the same batching (the same frames
batched together, the same batch size) gives byte-identical PNGs, so two fresh caches of one
project are identical. In another batching (a batch of 3 instead of 8, a frame alone, another
frame beside it, another CPU) float rounding in the model's kernels may differ, so a frame may
differ by at most BATCHING_MAX_LEVELS levels (of 255) in any value and by at most
BATCHING_MEAN_LEVELS levels on average over the frame. The store keeps whichever render came first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .backends import Backend
from .frame_recipe import PlannedFrame, Source, keyframe_recipe, plan_frame
from .frame_store import FrameStore
from .probe import probe_missing
from .project import Keyframe, Project, RenderSettings
from .timeline import frames_of_segments, plan_timeline

if TYPE_CHECKING:
    from .conditioning import Conditioning

DEFAULT_BATCH = 8
BATCHING_MAX_LEVELS = 2  # the most one value of a frame may differ between two batchings (of 255)
BATCHING_MEAN_LEVELS = 0.01  # the most a frame's mean absolute difference may be between two batchings


@dataclass(frozen=True)
class RenderReport:
    frames_total: int  # frames planned (positions: one key may appear at several)
    rendered: int
    reused: int
    seconds: float
    evicted: int = 0  # least recently used frames the store deleted to stay under its size limit
    probed: int = 0  # segments of an even-spaced project measured before rendering (probe.py)


@dataclass(frozen=True)
class RenderProgress:
    done: int  # frames rendered so far
    total: int  # frames to render in this run
    report: RenderReport

    @property
    def finished(self) -> bool:
        """The last step of a render: everything written and the store evicted."""
        return self.done == self.total


def missing_frames(frames: Iterable[PlannedFrame], store: FrameStore) -> list[PlannedFrame]:
    """Frames whose key is not in the store, each key once."""
    seen: set[str] = set()
    missing = []
    for frame in frames:
        if frame.key not in seen and not store.has(frame.key):
            seen.add(frame.key)
            missing.append(frame)
    return missing


def encode_sources(frames: Sequence[PlannedFrame], backend: Backend) -> dict[Source, Conditioning]:
    """The conditioning of every source the frames' recipes name, each encoded once, in order of need."""
    conditionings: dict[Source, Conditioning] = {}
    for frame in frames:
        for source in frame.recipe.sources:
            if source not in conditionings:
                conditionings[source] = source.conditioning(frame.recipe.settings, backend)
    return conditionings


def render_frames(
    frames: Sequence[PlannedFrame],
    store: FrameStore,
    backend: Backend,
    *,
    batch_size: int = DEFAULT_BATCH,
    keep: Iterable[str] = (),
) -> Iterator[RenderProgress]:
    """Render the frames not in the store and yield after each batch; the last step is `finished`.

    All frames share one RenderSettings (a batch renders under one). `keep`: more keys that no
    eviction may touch meanwhile (the rest of a project while some of its segments render)."""
    settings = {frame.recipe.settings for frame in frames}
    if len(settings) > 1:
        raise ValueError(f"one render takes frames of one RenderSettings, got {len(settings)}")
    with store.pinned([*keep, *(frame.key for frame in frames)]):  # no eviction touches them meanwhile
        yield from _render_pinned(frames, store, backend, batch_size)


def _render_pinned(
    frames: Sequence[PlannedFrame], store: FrameStore, backend: Backend, batch_size: int
) -> Iterator[RenderProgress]:
    started = time.perf_counter()
    # 1. Find what is missing; with nothing missing, the model is never loaded.
    missing = missing_frames(frames, store)

    def progress(done: int, evicted: int = 0) -> RenderProgress:
        seconds = round(time.perf_counter() - started, 3)
        report = RenderReport(len(frames), done, len(frames) - len(missing), seconds, evicted)
        return RenderProgress(done, len(missing), report)

    if not missing:
        yield progress(0)
        return
    # 2. Encode each source the missing frames need, once. (torch is imported only now.)
    conditionings = encode_sources(missing, backend)
    settings = missing[0].recipe.settings
    # 3. Render batch by batch; PNG writing overlaps the next batch.
    with ThreadPoolExecutor(max_workers=2) as writer:
        pending: list[Future] = []
        done = 0
        for first in range(0, len(missing), batch_size):
            batch = missing[first : first + batch_size]
            images = backend.render(settings, [frame.recipe.mix(conditionings) for frame in batch])
            for future in pending:
                future.result()
            if pending:
                yield progress(done)
            pending = [
                writer.submit(store.write, f.key, image, draft=f.recipe.is_draft)
                for f, image in zip(batch, images, strict=True)
            ]
            done += len(batch)
        for future in pending:
            future.result()
    # 4. Keep the store under its size limit; this call's frames are pinned.
    yield progress(done, evicted=store.evict())


def run_render(steps: Iterator[RenderProgress], progress: Callable[[int, int], None] | None = None) -> RenderReport:
    """Run a render to its end, calling progress(done, total) after each batch; its final report."""
    for step in steps:
        if progress:
            progress(step.done, step.total)
    return step.report


def render_and_read(
    frames: Sequence[PlannedFrame], store: FrameStore, backend: Backend, *, batch_size: int
) -> list[np.ndarray]:
    """Render what is missing, then every frame's (H, W, 3) uint8 image, read before the pin is released."""
    with store.pinned(frame.key for frame in frames):
        run_render(render_frames(frames, store, backend, batch_size=batch_size))
        return [store.read(frame.key) for frame in frames]


# The project's planner ------------------------------------------------------------------


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
    """Render the project's missing frames (of the selected segments, or only the keyframes' frames)."""

    # 1. Even spacing: probe the segments whose t are not stored yet (none, for keyframes only).
    def probe_render(frames: list[PlannedFrame]) -> list[np.ndarray]:
        return render_and_read(frames, store, backend, batch_size=batch_size)

    probed = 0 if keyframes_only else probe_missing(project, store, probe_render, segments)
    # 2. Plan every frame; keep the selected segments' (or only the keyframes').
    plans = chosen = plan_timeline(project, store.spacings)
    if segments is not None:
        chosen = frames_of_segments(chosen, segments)
    if keyframes_only:
        chosen = [plan for plan in chosen if plan.is_keyframe]
    # 3. Render them, keeping the whole project's frames from eviction meanwhile.
    for step in render_frames(chosen, store, backend, batch_size=batch_size, keep=[p.key for p in plans]):
        step = replace(step, report=replace(step.report, probed=probed))
        # 4. Remember which key each position has, for the stale state; the frames may come from
        #    another project file sharing the store.
        if step.finished and project_id:
            store.remember_positions(project_id, chosen)
        yield step


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
    steps = iter_render(project, store, backend, segments=segments, batch_size=batch_size, project_id=project_id)
    return run_render(steps, progress)


def project_frames(project: Project, store: FrameStore) -> list[np.ndarray]:
    """Every frame of the timeline, in order; all must be rendered."""
    return list(iter_project_frames(project, store))


def iter_project_frames(project: Project, store: FrameStore) -> Iterator[np.ndarray]:
    """Every frame of the timeline, in order, read ahead while the consumer (a video writer) works."""
    return store.read_many(plan.key for plan in plan_timeline(project, store.spacings))


def render_keyframe(
    settings: RenderSettings, keyframe: Keyframe, store: FrameStore, backend: Backend
) -> tuple[np.ndarray, Conditioning]:
    """A keyframe's image (from the store when it is there) and its conditioning, encoded once."""
    conditioning = backend.encode(settings, keyframe)
    frame = plan_frame(keyframe_recipe(settings, keyframe, conditioning))
    return render_and_read([frame], store, backend, batch_size=1)[0], conditioning
