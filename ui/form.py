"""The studio's form as plain data: prompt rows, the project JSON they make, the browser session.

A row is a dict with the keyframe fields of a project file (frame, prompt, negative_prompt,
style, seed). The session kept in the browser (gr.BrowserState) is {"id": ..., "project": ...};
it comes back from the browser, so it is checked like any other input.
"""

import random
import re
import uuid
from typing import Any

from pipeline.presets import preset_for

ROW_FIELDS = ("frame", "prompt", "negative_prompt", "style", "seed")
SETTING_FIELDS = ("model", "width", "height", "steps", "guidance", "scheduler", "fps", "easing", "interpolation")
FRAME_GAP = 8  # frames between a new row and the one before it
MAX_DICE_SEED = 2**32 - 1  # seeds a browser number field keeps exactly
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")

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
        "keyframes": [
            {"frame": f, "prompt": p, "negative_prompt": "", "style": "none", "seed": s} for f, p, s in STARTER_PROMPTS
        ],
    }


def project_json(settings: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Project JSON from the form's values (unchecked: pipeline.project.parse_project checks it)."""
    return {**{k: settings[k] for k in SETTING_FIELDS}, "keyframes": [{k: row[k] for k in ROW_FIELDS} for row in rows]}


def number(value: Any) -> Any:
    """Form numbers arrive as floats; whole ones become ints so the project checks accept them."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def new_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    last = max((r["frame"] for r in rows if isinstance(r.get("frame"), int)), default=-FRAME_GAP)
    return {"frame": last + FRAME_GAP, "prompt": "", "negative_prompt": "", "style": "none", "seed": random_seed()}


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
    return value if isinstance(value, str) and _SESSION_ID.match(value) else uuid.uuid4().hex


def session_value(sid: str, project: dict[str, Any]) -> dict[str, Any]:
    return {"id": sid, "project": project}
