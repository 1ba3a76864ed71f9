"""Prompt schedules as other tools write them: `{"0": "a red fox", "48": "a city at night"}`.

Deforum's animation prompts and ComfyUI's prompt schedules are a JSON object of `"frame":
"prompt"` pairs, often pasted without the braces and with a trailing comma. `parse_schedule`
turns such text into (frame, prompt) pairs in frame order; text that does not parse gets an
InputError naming the line.
"""

import json

from .errors import InputError, show

EXAMPLE = '"0": "a red fox", "48": "a city at night"'


def parse_schedule(text: str, name: str = "schedule") -> list[tuple[int, str]]:
    """(frame, prompt) pairs of a schedule, sorted by frame; InputError naming the bad line."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{name} is empty: paste pairs like {EXAMPLE}")
    body = text.strip()
    braced = body.startswith("{")
    if not braced:  # the pairs alone: add the braces, drop a trailing comma
        body = "{" + body.rstrip().rstrip(",") + "}"
    try:
        pairs = json.loads(body, object_pairs_hook=list)
    except json.JSONDecodeError as exc:
        line = exc.lineno
        shown = text.strip().splitlines()[min(line, len(text.strip().splitlines())) - 1]
        raise InputError(f"{name} line {line}: {exc.msg} (column {exc.colno}) in {show(shown.strip())}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{name} does not parse: {str(exc)[:200]}") from None
    if not isinstance(pairs, list):
        raise InputError(f"{name} must be pairs like {EXAMPLE}, got {show(pairs)}")
    schedule: dict[int, str] = {}
    offset = 0
    text = text.strip()
    for key, prompt in pairs:
        line, offset = _line_of(text, key, offset)
        where = f"{name} line {line}"
        if not key.strip().isdigit():
            raise InputError(f"{where}: a frame must be a whole number of 0 or more, got {show(key)}")
        frame = int(key)
        if frame in schedule:
            raise InputError(f"{where}: frame {frame} is given twice")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{where}: the prompt of frame {frame} must be non-empty text, got {show(prompt)}")
        schedule[frame] = prompt.strip()
    if not schedule:
        raise InputError(f"{name} is empty: paste pairs like {EXAMPLE}")
    return sorted(schedule.items())


def _line_of(text: str, key: str, start: int) -> tuple[int, int]:
    """(line from 1, offset after it) of a key quoted in `text` at or after offset `start`."""
    at = text.find(json.dumps(key), start)
    if at < 0:  # written with escapes: point at the last line found
        return text.count("\n", 0, start) + 1, start
    return text.count("\n", 0, at) + 1, at + len(json.dumps(key))
