"""What every handler shares: the server's model, the frame store, the backend, the output folder.

Built once by app.py (`build_context`), which is where the model is loaded: never at import.
"""

from dataclasses import dataclass
from pathlib import Path

from pipeline.backends import LocalBackend
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice, load_or_demo
from pipeline.presets import PRESETS, cache_root
from pipeline.renderer import DEFAULT_BATCH, Backend
from pipeline.workspace import clean_up, workspace_root


@dataclass(frozen=True)
class AppContext:
    model: ModelChoice  # the server's model: what the API endpoints render with
    store: FrameStore
    backend: Backend
    batch_size: int = DEFAULT_BATCH  # frames per model call

    @property
    def offered_models(self) -> tuple[str, ...]:
        """What users may render with: the server's model and the presets, never a model id or folder of theirs."""
        return tuple(dict.fromkeys([self.model.active, *PRESETS]))

    @property
    def allowed_paths(self) -> list[str]:
        """The only folders whose files the app may serve: frames and request outputs."""
        return [str(self.store.root), str(workspace_root())]


def build_context(model: str, cache: Path | None = None) -> AppContext:
    """Load the model (or the demo model, with a notice) and open the frame store."""
    store = FrameStore(cache or cache_root() / "frames")
    store.remove_orphans()  # what a killed server left: half-written frames, its pins
    clean_up()
    return AppContext(model=load_or_demo(model), store=store, backend=LocalBackend())
