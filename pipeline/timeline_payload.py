"""What the studio's timeline sends to the page for one redraw: small however long the project.

    {"frames": N, "fps": F, "states": "<one char a frame>", "keyframes": [{"frame", "prompt",
     "thumb": url | null, "stale": bool}], "dim": [[first, last], ...], "lanes"?: {...}}

States are STATE_CHARS of FrameState values (k keyframe, r rendered, m missing, s stale, n
rendering now, d draft); `dim` are the frame ranges of segments left out of the selection;
optional `lanes` are drawn under the frames on the same axis, only when present:
`"audio": {"peaks": [0..1 a frame], "beats": [frame positions], "tempo": bpm}` and
`"change": [0..1 a frame]`. At 1,440 frames it is about 2 KB (see the benchmark).
"""

from collections.abc import Callable
from pathlib import Path

from .frame_store import FrameStore
from .project import Project
from .timeline import FrameState, keyframe_key

STATE_CHARS = {"keyframe": "k", "rendered": "r", "missing": "m", "stale": "s", "rendering": "n", "draft": "d"}


def timeline_payload(
    project: Project,
    states: list[FrameState],
    store: FrameStore,
    url: Callable[[Path], str],
    dimmed: list[tuple[int, int]] = (),
    lanes: dict | None = None,
) -> dict:
    """What the page draws: {"frames", "fps", "states", "keyframes", "dim"[, "lanes"]}."""
    keyframes = []
    for keyframe in project.keyframes:
        key = keyframe_key(project.settings, keyframe)
        state = states[keyframe.frame]
        keyframes.append(
            {
                "frame": keyframe.frame,
                "prompt": keyframe.prompt,
                "thumb": url(store.path(key)) if state == FrameState.KEYFRAME else None,
                "stale": state == FrameState.STALE,
            }
        )
    payload = {
        "frames": len(states),
        "fps": project.fps,
        "states": "".join(STATE_CHARS.get(s.value, "m") for s in states),
        "keyframes": keyframes,
        "dim": [list(span) for span in dimmed],
    }
    if lanes:
        payload["lanes"] = lanes
    return payload
