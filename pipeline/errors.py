"""The two kinds of failure a user can meet, each with a message meant for them.

`InputError` is something the user gave us (a project field, an uploaded file, an API
argument); `ModelLoadError` is a model that could not be loaded. The UI turns both into
`gr.Error`, the CLI into one line on stderr. Anything else is a bug.
"""


class InputError(ValueError):
    """Bad user input; the message names the field and the value."""


class ModelLoadError(RuntimeError):
    """A model could not be loaded (offline, missing, not a Stable Diffusion pipeline)."""
