"""The one place where the pipeline's user-facing errors become `gr.Error` popups.

`InputError` (bad input: the message names the field and value), `ModelLoadError` and
`RemoteError` and `ClusterError` (the remote or Ray backend failed; the message names it) reach
the user as `gr.Error` with that message, in the page's words (`page_wording`: keyframes counted
from 1); anything else is a bug and keeps its traceback. A quiet check while the user types shows
its message under the rows instead, the field it names outlined (`field_error_html`).
"""

import functools
import html
import inspect
import re
from collections.abc import Callable
from typing import TypeVar

import gradio as gr

from pipeline.errors import ClusterError, InputError, ModelLoadError, RemoteError

F = TypeVar("F", bound=Callable)
USER_ERRORS = (InputError, ModelLoadError, RemoteError, ClusterError)
TITLES = {
    ModelLoadError: "Model not available",
    RemoteError: "Remote not available",
    ClusterError: "Ray cluster not available",
}


def as_gr_error(exc: Exception) -> gr.Error:
    title = TITLES.get(type(exc), "Please check your input")
    return gr.Error(page_wording(str(exc)), title=title)


def user_errors(fn: F) -> F:
    """Wrap a handler (plain or generator) so user errors show as gr.Error; signature kept."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except USER_ERRORS as exc:
                raise as_gr_error(exc) from None

        return stream  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            raise as_gr_error(exc) from None

    return run  # type: ignore[return-value]


_KEYFRAME_FIELD = re.compile(r"\bkeyframes\[(\d+)\]\.(\w+)")
_SETTING_FIELD = re.compile(r"^(model|width|height|steps|guidance|scheduler|fps|easing|interpolation)\b")
_ROW_ELEM = {"negative_prompt": "negative", "image": "picture"}  # ui/prompt_rows.py's elem_ids


def page_wording(message: str) -> str:
    """A pipeline message in the page's words: keyframes counted from 1, as the rows are labelled
    ("keyframes[2].frame" -> "keyframe 3 frame"); the CLI keeps the file's own indices."""
    return _KEYFRAME_FIELD.sub(lambda m: f"keyframe {int(m[1]) + 1} {m[2].replace('_', ' ')}", message)


def field_elem_id(message: str) -> str | None:
    """The elem_id of the field a pipeline message names first, if the page shows it."""
    row = _KEYFRAME_FIELD.search(message)
    if row:
        return f"kf-{row[1]}-{_ROW_ELEM.get(row[2], row[2])}"
    setting = _SETTING_FIELD.match(message)
    return setting[1] if setting else None


def field_error_html(message: str) -> str:
    """The message under the rows, and the field it names outlined with the message beside it."""
    elem_id = field_elem_id(message)
    text = page_wording(message)
    style = ""
    if elem_id:
        note = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x}" for c in text)  # a safe CSS string
        style = (
            f"<style>#{elem_id} {{ outline: 2px solid #dc2626; outline-offset: 2px; border-radius: 6px; }}"
            f'#{elem_id}::after {{ content: "{note}"; display: block; color: #dc2626; font-size: 12px; }}</style>'
        )
    field = f' data-field="{elem_id}"' if elem_id else ""
    return f'<div class="sdvc-field-error"{field} role="alert">⚠️ Timeline not updated: {html.escape(text, quote=False)}</div>{style}'
