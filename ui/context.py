"""What every handler shares: the server's model, the frame store, the backend, the output folder.

Built once by app.py (`build_context`), which is where the model is loaded (never at import),
or, with a remote, where the remote is asked which model it runs, or, with a Ray cluster, where
its workers load it. The studio's backend option gives a handler the same context rendering
elsewhere (`for_backend`), when the operator allows it.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.backends import Backend, LocalBackend
from pipeline.errors import InputError, show
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice, load_or_demo, remote_choice
from pipeline.presets import PRESETS, cache_root
from pipeline.ray_backend import RayBackend
from pipeline.remote import RemoteBackend, check_remote
from pipeline.renderer import DEFAULT_BATCH
from pipeline.uploads import sessions_root
from pipeline.workspace import clean_up, workspace_root

MAX_REMOTES = 8  # remote backends kept connected for the studio's backend option


@dataclass(frozen=True)
class AppContext:
    model: ModelChoice  # the server's model: what the API endpoints render with
    store: FrameStore
    backend: Backend
    batch_size: int = DEFAULT_BATCH  # frames per model call
    remote: str = ""  # where `backend` renders: a remote's URL or Space id; "" renders here
    backends: dict[str, Backend] = field(default_factory=dict, repr=False)  # by `remote`, shared by replace()
    remote_choice: bool = False  # visitors may name a remote (--allow-remote-choice): a private server only

    @property
    def offered_models(self) -> tuple[str, ...]:
        """What users may render with: the server's model and the presets, never a model id or folder of theirs."""
        return tuple(dict.fromkeys([self.model.active, *PRESETS]))

    @property
    def allowed_paths(self) -> list[str]:
        """The only folders whose files the app may serve: frames, request outputs, sessions' pictures."""
        return [str(self.store.root), str(workspace_root()), str(sessions_root())]

    def for_backend(self, choice: str, remote: str) -> "AppContext":
        """This context rendering here (choice "local") or on `remote` (a URL or Space id).

        Only with `remote_choice` may a visitor name the remote: otherwise a server renders where
        its operator said (here, or on --remote only), and a request naming another place, crafted
        or not, is refused before anything connects. A remote typed in the studio gets no token:
        only the one given at launch has it."""
        if choice not in ("local", "remote"):
            raise InputError(f"backend must be local or remote, got {show(choice)}")
        if not self.remote_choice:
            return self._operators_backend(choice, remote)
        where = check_remote(remote) if choice == "remote" else ""
        if where == self.remote:
            return self
        if where not in self.backends:
            if len(self.backends) >= MAX_REMOTES:
                self._forget_a_remote()
            self.backends[where] = RemoteBackend(where) if where else LocalBackend()
        return replace(self, backend=self.backends[where], remote=where)

    def _operators_backend(self, choice: str, remote: str) -> "AppContext":
        """This context, unless the request asks for a remote the operator did not choose."""
        if choice == "remote" and not self.remote:
            raise InputError(
                "backend remote is turned off on this server: it renders here only "
                "(its operator may start it with --allow-remote-choice)"
            )
        if choice == "remote" and (remote or "").strip() not in ("", self.remote):
            raise InputError(f"remote: this server renders only on {self.remote}, got {show(remote)}")
        return self

    def choose_model(self, name: str | None) -> ModelChoice:
        """The model `name` where this context renders: loaded here, or the remote's (checked)."""
        if self.remote:
            return remote_choice(self.backend, name)
        if isinstance(self.backend, RayBackend):  # loaded on the cluster's workers, not here
            self.backend.load(name)
            return ModelChoice(name, name, "")
        return load_or_demo(name)

    def _forget_a_remote(self) -> None:
        oldest = next(where for where, backend in self.backends.items() if where and backend is not self.backend)
        self.backends.pop(oldest).close()


def build_context(
    model: str | None,
    cache: Path | None = None,
    remote: str | None = None,
    token: str | None = None,
    remote_choice: bool = False,
    ray: str | None = None,
) -> AppContext:
    """Load the model (or the demo model, with a notice), or name the remote's; open the frame store.

    With a remote and no `model`, the remote is asked which it runs (RemoteError when it cannot
    be reached); with a `model`, the app starts even while the remote is down, and every render
    checks that the remote runs that model. `remote_choice` lets the studio's visitors pick a remote.
    With `ray` (a cluster address, see ray_backend.py), the cluster's workers load the model
    (ClusterError when none can) and render one batch each."""
    store = FrameStore(cache or cache_root() / "frames")
    store.remove_orphans()  # what a killed server left: half-written frames, its pins
    clean_up()
    workspace_root().mkdir(parents=True, exist_ok=True)
    if remote:
        backend = RemoteBackend(remote, token)
        choice = ModelChoice(model, model, "", backend.remote) if model else remote_choice(backend, None)
        return AppContext(
            model=choice,
            store=store,
            backend=backend,
            remote=backend.remote,
            backends={backend.remote: backend},
            remote_choice=remote_choice,
        )
    if ray is not None:
        backend = RayBackend(ray)
        backend.load(model)
        return AppContext(
            model=ModelChoice(model, model, ""),
            store=store,
            backend=backend,
            batch_size=backend.frames_per_call,
            remote_choice=remote_choice,
        )
    return AppContext(model=load_or_demo(model), store=store, backend=LocalBackend(), remote_choice=remote_choice)
