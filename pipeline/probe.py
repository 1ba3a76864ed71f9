"""The even-spacing probe: measure how each segment changes at uniform t, then store its even t.

For each segment of a `"spacing": "even"` project whose t are not stored yet (a new project, or
a segment whose inputs changed), as numbered steps: 1. its frames at uniform t, read from the
store when all of them are already rendered at the project's settings, otherwise rendered by the
render core at probe settings (PROBE_SCALE of the size, at least 64 pixels, at most PROBE_STEPS
steps: a small fraction of the render); 2. the distances between neighbours (smoothness.py);
3. the even t (spacing.even_fractions), stored under the segment's inputs.
"""

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .frame_recipe import PlannedFrame, plan_frame
from .project import Project, RenderSettings
from .smoothness import neighbour_distances
from .spacing import SpacingStore, even_fractions
from .timeline import segment_recipe, segment_spacing_key, uniform_fractions

PROBE_SCALE = 4  # probe frames are this many times smaller on each side
PROBE_STEPS = 4  # and take at most this many denoising steps
MIN_SIDE = 64  # the smallest frame the models take

Render = Callable[[list[PlannedFrame]], list[np.ndarray]]  # frames in, their pixels out (the render core)


def probe_settings(settings: RenderSettings) -> RenderSettings:
    """Cheaper settings with the same model: a quarter of the size on each side, few steps."""

    def side(pixels: int) -> int:
        return max(MIN_SIDE, pixels // PROBE_SCALE // 8 * 8)

    return replace(
        settings, width=side(settings.width), height=side(settings.height), steps=min(settings.steps, PROBE_STEPS)
    )


def unprobed_segments(project: Project, spacings: SpacingStore) -> list[int]:
    """The segments of an even-spaced project (with in-betweens) whose t are not stored."""
    if project.spacing != "even":
        return []
    pairs = zip(project.keyframes, project.keyframes[1:], strict=False)
    return [
        i
        for i, (a, b) in enumerate(pairs)
        if b.frame - a.frame > 1 and spacings.get(segment_spacing_key(project, i), b.frame - a.frame) is None
    ]


def probe_segment(project: Project, segment: int, store, render: Render) -> list[float]:
    """Measure one segment at uniform t and store its even t; returns them."""
    start, end = project.keyframes[segment], project.keyframes[segment + 1]
    uniform = uniform_fractions(project, start, end)
    # 1. The uniform frames: already rendered, or rendered small and quick.
    rendered = [plan_frame(segment_recipe(project, segment, t)) for t in (0.0, *uniform)]
    if all(store.has(frame.key) for frame in rendered):
        frames = [store.read(frame.key) for frame in rendered]
    else:
        cheap = probe_settings(project.settings)
        frames = render([plan_frame(segment_recipe(project, segment, t, cheap)) for t in (0.0, *uniform)])
    # 2, 3. Neighbour distances, inverted into even t, stored by the segment's inputs.
    fractions = even_fractions(uniform, neighbour_distances(frames), project.easing)
    store.spacings.put(segment_spacing_key(project, segment), fractions)
    return fractions


def probe_missing(project: Project, store, render: Render, segments: set[int] | None = None) -> int:
    """Probe every segment (of `segments`; None: all) whose even t are not stored; returns how many."""
    missing = [i for i in unprobed_segments(project, store.spacings) if segments is None or i in segments]
    for segment in missing:
        probe_segment(project, segment, store, render)
    return len(missing)
