"""Exporting a project: render whatever frames are missing, then write every frame to a video.

The one path from a project to a video file, shared by the CLI, the app's `/render_project`
endpoint and the studio's "Create video" button. An mp4 carries the project's soundtrack. With
`draft`, a preview: drafts (draft.py) of the frames that have no final are rendered, and each
frame shows its final, else its draft.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .backends import Backend
from .draft import iter_render_drafts, iter_shown_frames, plan_drafts
from .errors import InputError
from .frame_store import FrameStore
from .project import Project
from .renderer import DEFAULT_BATCH, RenderReport, iter_project_frames, render_project, run_render
from .timeline import plan_timeline
from .video import FORMATS, write_video


@dataclass(frozen=True)
class Export:
    report: RenderReport  # what the render did (frames_total, rendered, reused, seconds)
    video: Path

    def stats(self) -> dict:
        """The render report and the video path as plain JSON data."""
        return {**self.report.__dict__, "video": str(self.video)}


def check_video_path(path: Path, field: str = "the video file") -> None:
    if Path(path).suffix.lower() not in FORMATS:
        raise InputError(f"{field} must end in {' or '.join(FORMATS)}, got {Path(path).name!r}")


def export_video(
    project: Project,
    store: FrameStore,
    backend: Backend,
    out: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    project_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    draft: bool = False,
) -> Export:
    """Render the project's missing frames (or drafts), then write all of them to `out` (.mp4 or .gif)."""
    # 1. Check the output path before any rendering.
    check_video_path(out)
    # 2. Render what is missing (nothing, when every frame is in the store); no eviction until the
    #    video has every frame.
    plans = plan_timeline(project, store.spacings)
    with store.pinned(plan.key for plan in (plans + plan_drafts(project, plans) if draft else plans)):
        if draft:
            report = run_render(iter_render_drafts(project, store, backend, batch_size=batch_size), progress)
            frames = iter_shown_frames(project, store)
        else:
            report = render_project(
                project, store, backend, batch_size=batch_size, project_id=project_id, progress=progress
            )
            frames = iter_project_frames(project, store)
        # 3. Write every frame of the timeline, in order.
        video = write_video(frames, out, project.fps, audio=project.audio)
    return Export(report, video)
