"""Choosing the model to run: the one asked for, or the demo model with a notice saying why.

The app starts on the model given with `--model` (and the studio switches models) through
`load_or_demo`: when that model cannot be loaded (offline, no cache, no such model) the demo
model runs instead and the notice tells the user which model failed and why. Rendering on a
remote, the model is the remote's (`remote_choice`): nothing is loaded here. A server refuses
models it does not offer (`check_offered`) before loading anything.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import InputError, ModelLoadError, show
from .presets import DEMO
from .server_info import check_server_info

if TYPE_CHECKING:
    from .remote import RemoteBackend


@dataclass(frozen=True)
class ModelChoice:
    requested: str  # what the user asked for
    active: str  # what is loaded: the request, or the demo model
    notice: str  # why the demo model runs instead; "" when the request loaded
    remote: str = ""  # the remote instance the model runs on; "" when it runs here

    @property
    def fell_back(self) -> bool:
        return self.active != self.requested


def load_or_demo(name: str) -> ModelChoice:
    """Load `name` (once per process), or the demo model when it cannot load."""
    from .models import load_model  # torch and diffusers are imported only here

    try:
        load_model(name)
        return ModelChoice(name, name, "")
    except ModelLoadError as exc:
        if name == DEMO:
            raise
        load_model(DEMO)
        reason = str(exc)
        return ModelChoice(name, DEMO, f"{reason[:1].upper()}{reason[1:]}. The demo model runs instead.")


def remote_choice(backend: "RemoteBackend", requested: str | None) -> ModelChoice:
    """The model a remote runs (None: whichever it is); RemoteError when it runs another or is unreachable."""
    info = backend.info()
    active = info.get("model")
    check_server_info(info, requested or active, backend.remote)
    return ModelChoice(requested or active, active, "", backend.remote)


def check_offered(name: str, offered: Collection[str]) -> None:
    """Refuse a model the server does not offer, before anything reads it.

    A server open to anyone never loads a model its users name (a hub id would download any
    repository, a path would read any folder on its disk): only those it chose to offer.
    """
    if name not in offered:
        names = " or ".join(repr(m) for m in offered)
        raise InputError(f"model {show(name)} is not available on this server, which renders with {names}")
