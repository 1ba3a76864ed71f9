"""The one place where the pipeline's user-facing errors become `gr.Error` popups.

`InputError` (bad input: the message names the field and value), `ModelLoadError` and
`RemoteError` (the remote backend failed; the message names it) reach the user as `gr.Error`
with that message; anything else is a bug and keeps its traceback.
"""

import functools
import inspect
from collections.abc import Callable
from typing import TypeVar

import gradio as gr

from pipeline.errors import InputError, ModelLoadError, RemoteError

F = TypeVar("F", bound=Callable)
USER_ERRORS = (InputError, ModelLoadError, RemoteError)
TITLES = {ModelLoadError: "Model not available", RemoteError: "Remote not available"}


def as_gr_error(exc: Exception) -> gr.Error:
    title = TITLES.get(type(exc), "Please check your input")
    return gr.Error(str(exc), title=title)


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
