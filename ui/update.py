"""What a studio handler returns: a StudioUpdate naming the parts of the page that change
(ui/page.py turns it into component values), and the views it carries besides the timeline's.
"""

from dataclasses import dataclass

from pipeline.frame_store import FrameStore
from pipeline.project import Project
from pipeline.timeline import keyframe_key

from .timeline_view import TimelineView


@dataclass(frozen=True)
class CandidatesView:
    """A row's candidates: the gallery, its title, and what a click on one picks."""

    title: str
    gallery: list[tuple[str, str]]  # (PNG in the store, "seed N")
    picker: dict  # {"row", "seeds", "paths", "title"}: kept server-side (gr.State)
    selected: int | None  # the one in use, if shown


@dataclass(frozen=True)
class SoundtrackView:
    """The Soundtrack panel for a project (ui/soundtrack.py): its track, where frame 0 plays, a summary."""

    source: str | None  # the project's audio path (in the session's folder), None without a track
    start: float  # seconds into the track at frame 0
    player: str | None  # the track's file on the server, for the player
    info: str  # tempo, beats, duration (Markdown)


@dataclass(frozen=True)
class StudioUpdate:
    """The parts of the page a handler changes; None leaves a part as it is."""

    view: TimelineView | None = None
    gallery: list[tuple[str, str]] | None = None
    session: dict | None = None
    settings: dict | None = None
    rows: list[dict] | None = None
    status: str | None = None
    video: str | None = None
    downloads: list[str] | None = None
    project_file: str | None = None
    model_status: str | None = None
    candidates: CandidatesView | None = None
    field_error: str | None = None  # HTML under the rows ("" clears it): what a quiet check found wrong
    soundtrack: SoundtrackView | None = None
    soundtrack_info: str | None = None  # the panel's summary alone, the player left playing (after an edit)


def keyframe_gallery(store: FrameStore, project: Project, project_id: str | None = None) -> list[tuple[str, str]]:
    """Keyframe images in the store, captioned with frame and prompt; with the project's id, an edited
    keyframe shows the picture its frame had when last rendered, captioned as stale."""
    previous = store.last_positions(project_id) if project_id else {}
    items = []
    for k in project.keyframes:
        key = keyframe_key(project.settings, k)
        if store.has(key):
            items.append((str(store.path(key)), f"frame {k.frame} · {k.prompt}"))
        elif (old := previous.get(str(k.frame))) and store.has(old):
            items.append((str(store.path(old)), f"frame {k.frame} · stale: generate again · {k.prompt}"))
    return items
