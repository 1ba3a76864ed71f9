"""The kinds of failure a user can meet, each with a message meant for them.

`InputError` is something the user gave us (a project field, an uploaded file, an API
argument); `ModelLoadError` is a model that could not be loaded; `RemoteError` is a remote
instance that cannot render for us (unreachable, gone, or running another model);
`ClusterError` is a Ray cluster that cannot (Ray not installed, no cluster, no worker left). The UI
turns them into `gr.Error`, the CLI into one line on stderr. Anything else is a bug. `show`
puts a hostile value into a message; `check_integer` is every integer field's check, in one
wording (`steps must be an integer, got '4'`, `frames must be at least 1, got 0`).
"""

import reprlib

_SHORT = reprlib.Repr()  # values in messages stay short, however long or deep
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 80, 80, 40


class InputError(ValueError):
    """Bad user input; the message names the field and the value."""


class ModelLoadError(RuntimeError):
    """A model could not be loaded (offline, missing, not a Stable Diffusion pipeline)."""


class RemoteError(RuntimeError):
    """The remote backend failed; the message names the remote and says what happened."""


class ClusterError(RuntimeError):
    """The Ray backend failed; the message names the cluster and says what happened."""


def show(value: object) -> str:
    """A value for an error message: short, and safe for huge or deeply nested values."""
    try:
        return _SHORT.repr(value)
    except ValueError:  # an int of more digits than Python will print
        return f"a {type(value).__name__} too long to show"


def check_integer(value: object, field: str, low: int | None = None, high: int | None = None, limit: str = "") -> int:
    """`value` if it is an int (not a bool, float or string) in [low, high]; InputError naming field and value.

    `limit` says what sets `high` (an SDVC_* variable), shown after it: `between 1 and 50 (SDVC_MAX_STEPS)`.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field} must be an integer, got {show(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        top = f"{high} ({limit})" if limit else f"{high}"
        if high is None:
            allowed = f"at least {low}"
        elif low is None:
            allowed = f"at most {top}"
        else:
            allowed = f"between {low} and {top}"
        raise InputError(f"{field} must be {allowed}, got {show(value)}")
    return value
