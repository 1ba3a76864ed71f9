"""The studio's form as plain data: `Form` (the page read once, what every handler takes), the
prompt rows, the project JSON they make, the browser session.

A row is a dict with the keyframe fields of a project file (frame, prompt, negative_prompt,
style, seed); a row with a picture also has "image" (a path in the session's folder, see
pipeline.uploads), "strength" and "preview" (the picture's file on the server, for its
thumbnail; never part of the project). The session kept in the browser (gr.BrowserState) is
{"id": ..., "project": ..., "outputs": {"video", "downloads"}} (the last video made, so that a
reload shows it); it comes back from the browser, so it is checked like any other input: outputs
must be files the app handed out (pipeline.workspace).
"""

import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.presets import preset_for
from pipeline.project import Project, parse_project
from pipeline.uploads import is_session_id, session_dir
from pipeline.workspace import workspace_root

from .context import AppContext

ROW_FIELDS = ("frame", "prompt", "negative_prompt", "style", "seed")
PICTURE_FIELDS = ("image", "strength")  # only on rows with a picture
SETTING_FIELDS = (
    *("model", "width", "height", "steps", "guidance", "scheduler", "fps", "easing", "interpolation"),
    *("spacing", "path", "timing", "fast"),  # timing, fast: a project file holds them only when not the default
)
FRAME_GAP = 8  # frames between a new row and the one before it
MAX_DICE_SEED = 2**32 - 1  # seeds a browser number field keeps exactly
CANDIDATE_COUNT = 4  # candidates a row shows until the user asks for another number
MAX_DOWNLOADS = 4  # files a session's outputs may list (a video and its GIF)

STARTER_PROMPTS = (
    (0, "a red fox in the snow, morning light", 1),
    (8, "a city street at night, neon reflections", 2),
    (16, "a quiet lake at dawn, mist over the water", 3),
)


def random_seed() -> int:
    return random.randint(0, MAX_DICE_SEED)


def starter_project(model: str) -> dict[str, Any]:
    """The project a new browser session starts with, on the server's model and its preset."""
    preset = preset_for(model)
    return {
        "model": model,
        "width": preset.width,
        "height": preset.height,
        "steps": preset.steps,
        "guidance": preset.guidance,
        "scheduler": preset.scheduler,
        "fps": 8,
        "easing": "linear",
        "interpolation": "lerp",
        "spacing": "uniform",
        "path": "straight",
        "timing": "even",
        "fast": False,
        "keyframes": [
            {"frame": f, "prompt": p, "negative_prompt": "", "style": "none", "seed": s} for f, p, s in STARTER_PROMPTS
        ],
    }


def project_json(
    settings: dict[str, Any], rows: list[dict[str, Any]], audio: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Project JSON from the form's values (unchecked: pipeline.project.parse_project checks it)."""
    keyframes = [{k: row[k] for k in (*ROW_FIELDS, *PICTURE_FIELDS) if k in row} for row in rows]
    # A field the caller leaves out (an older client: no spacing, no path) takes the project's default.
    data = {**{k: settings[k] for k in SETTING_FIELDS if k in settings}, "keyframes": keyframes}
    return data | ({"audio": audio} if audio is not None else {})


def settings_of(project: Project) -> dict[str, Any]:
    """The form's settings for a project; the fields its file leaves out at their defaults (timing, fast) show them."""
    data = project.to_json() | {"timing": project.timing, "fast": project.settings.fast}
    return {k: data[k] for k in SETTING_FIELDS}


def number(value: Any) -> Any:
    """Form numbers arrive as floats; whole ones become ints so the project checks accept them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def new_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A row after the last, with the last row's words (a valid keyframe, so the timeline redraws at
    once: the user edits it from there) and a seed of its own."""
    last = max((r["frame"] for r in rows if isinstance(r.get("frame"), int)), default=-FRAME_GAP)
    words = {k: rows[-1].get(k, "") for k in ("prompt", "negative_prompt")} if rows else {}
    style = rows[-1].get("style", "none") if rows else "none"
    return {
        "frame": last + FRAME_GAP,
        "prompt": "",
        "negative_prompt": "",
        **words,
        "style": style,
        "seed": random_seed(),
    }


def renewed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with a fresh "render" token, so that setting them always redraws the rows.

    gr.State fires .change only for a value unlike the one it holds; a loaded project (or a
    pick) may equal it while the fields on screen, typed over since, do not.
    """
    token = uuid.uuid4().hex
    return [{**row, "render": token} for row in rows]


def with_seed(rows: list[dict[str, Any]], index: int, seed: int) -> list[dict[str, Any]]:
    return [{**r, "seed": seed} if i == index else r for i, r in enumerate(rows)]


def with_picture(rows: list[dict[str, Any]], index: int, picture: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rows where row `index` has the given picture fields (image, strength, preview), or none."""

    def changed(row: dict[str, Any]) -> dict[str, Any]:
        plain = {k: v for k, v in row.items() if k not in (*PICTURE_FIELDS, "preview")}
        return {**plain, **(picture or {})}

    return [changed(r) if i == index else r for i, r in enumerate(rows)]


def remove_row(rows: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """Rows without row `index`; the first row left starts the timeline at frame 0."""
    if len(rows) <= 1:
        return rows
    left = [r for i, r in enumerate(rows) if i != index]
    left[0] = {**left[0], "frame": 0}
    return left


def move_row(rows: list[dict[str, Any]], index: int, step: int) -> list[dict[str, Any]]:
    """Swap a row's content with its neighbour's; frame positions stay where they are."""
    other = index + step
    if not 0 <= other < len(rows):
        return rows
    moved = list(rows)
    moved[index] = {**rows[other], "frame": rows[index]["frame"]}
    moved[other] = {**rows[index], "frame": rows[other]["frame"]}
    return moved


def session_id(session: Any) -> str:
    """The browser session's project id, or a new one when it has none (or a forged one)."""
    value = session.get("id") if isinstance(session, dict) else None
    return value if is_session_id(value) else uuid.uuid4().hex


def session_value(sid: str, project: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": sid, "project": project} | ({"outputs": outputs} if outputs else {})


def checked_session(session: Any) -> dict[str, Any]:
    """The browser's session as {"id", "project"[, "outputs"]}: a session's id (`session_id`), its
    project unchecked, its outputs only if they are files the app handed out (`checked_outputs`)."""
    saved = session.get("project") if isinstance(session, dict) else None
    outputs = checked_outputs(session.get("outputs")) if isinstance(session, dict) else None
    return session_value(session_id(session), saved, outputs)


def checked_outputs(outputs: Any) -> dict[str, Any] | None:
    """{"video", "downloads"} from the browser, or None unless every path is a file still in the app's
    request folders (a forged session names no other file on the server)."""
    if not isinstance(outputs, dict):
        return None
    video, downloads = outputs.get("video"), outputs.get("downloads")
    if not isinstance(downloads, list) or len(downloads) > MAX_DOWNLOADS:
        return None
    paths = [video, *downloads]
    root = workspace_root().resolve()
    if not all(isinstance(p, str) and Path(p).resolve().is_relative_to(root) and Path(p).is_file() for p in paths):
        return None
    return {"video": video, "downloads": downloads}


@dataclass(frozen=True)
class Form:
    """The studio page read once (ui/page.py reads it): plain values, what every handler takes.

    The session comes from the browser, so it is kept as {"id", "project"} with a session's id
    (a new one when the browser's is missing or forged): a copy made with `replace` is the same
    session.
    """

    settings: dict[str, Any]  # SETTING_FIELDS -> value, as typed (the project's parse checks them)
    rows: list[dict[str, Any]]  # the keyframe rows, top to bottom (see the module docstring)
    session: Any = None  # the browser's {"id", "project"}: the project as it was before this event
    selected: list[int] = field(default_factory=list)  # segment indices ticked to interpolate
    backend: str = "local"  # where renders run: "local", or "remote" at `remote`
    remote: str = ""  # the remote's URL or Space id
    make_gif: bool = False  # Create video also writes a GIF
    draft: bool = False  # Interpolate and Create video make drafts (ui/drafts.py)
    candidate_count: int = CANDIDATE_COUNT  # how many candidates a row shows
    picker: dict | None = None  # the candidates shown: what a click on one picks (ui/keyframe_choice.py)
    schedule: str = ""  # a pasted prompt schedule (ui/timeline_edits.py)
    audio: dict[str, Any] | None = None  # the soundtrack, {"path", "start"} as the project names it (ui/soundtrack.py)
    beat_every: Any = 4  # Keyframes on beats: one keyframe every this many beats,
    beat_from: Any = 0  # from this frame on (both checked by pipeline.beat_keyframes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", checked_session(self.session))

    @property
    def sid(self) -> str:
        """The session's project id: its frame pins and its folder (pictures) go by it."""
        return self.session["id"]

    def project(self) -> Project:
        """The form's project, checked (InputError naming the field); its files are the session's own."""
        return parse_project(project_json(self.settings, self.rows, self.audio), session_dir(self.sid))

    def selection(self, project: Project) -> list[int] | None:
        """The ticked segments while the segments stay those of the session's project; None (every
        segment) once the keyframes are more or fewer."""
        saved = self.session["project"]
        before = len(saved.get("keyframes", [])) if isinstance(saved, dict) else -1
        return list(self.selected) if before == len(project.keyframes) else None

    def saved(self, project: Project, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The session value that keeps `project` (what the browser stores), and the last outputs."""
        return session_value(self.sid, project.to_json(), outputs or self.session.get("outputs"))

    def backend_context(self, ctx: AppContext) -> AppContext:
        """The app's context rendering where the form's backend option says (InputError for a bad remote)."""
        return ctx.for_backend(self.backend, self.remote)
