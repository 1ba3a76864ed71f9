"""The benchmark's smoothness measure: uniform, even and spline on the same project, and the probe's cost.

A three-keyframe project rendered three ways, each into a fresh store: uniform t, even spacing
(its probe timed on its own, rendered at probe settings since no uniform frame is there to reuse)
and a spline path. For each, the segments' mean smoothness (1 - Gini of the neighbour distances),
consistency (mean distance) and max jump (smoothness.py); and the probe's time as a fraction of
the even render's.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

from ..backends import Backend
from ..frame_store import FrameStore
from ..probe import probe_missing
from ..project import Project
from ..renderer import render_and_read, render_project
from ..smoothness import segment_scores
from ..timeline import plan_timeline, segments
from .runs import timed


def _scores(project: Project, store: FrameStore) -> dict:
    measured = segment_scores(store, plan_timeline(project, store.spacings), segments(project))
    return {
        name: round(statistics.mean(getattr(m, name) for m in measured), 4)
        for name in ("smoothness", "consistency", "max_jump")
    }


def smoothness_runs(project: Project, work: Path, backend: Backend, batch: int, device: str) -> dict:
    """Scores of uniform, even and spline renders of `project`, and the probe's share of the even render."""
    result: dict = {"frames": project.frame_count, "segments": len(project.keyframes) - 1}
    for name, variant in (
        ("uniform", project),
        ("even", replace(project, spacing="even")),
        ("spline", replace(project, path="spline")),
    ):
        store = FrameStore(work / f"smooth-{name}")
        probe_t, _ = timed(
            lambda v=variant, s=store: probe_missing(
                v, s, lambda f, s=s: render_and_read(f, s, backend, batch_size=batch)
            ),
            device,
        )
        render_t, report = timed(lambda v=variant, s=store: render_project(v, s, backend, batch_size=batch), device)
        result[name] = {**_scores(variant, store), "frames_rendered": report.rendered, **render_t.as_dict()}
        if name == "even":
            result[name]["probe_seconds"] = round(probe_t.seconds, 3)
            result["probe_fraction"] = round(probe_t.seconds / render_t.seconds, 3)
    return result
