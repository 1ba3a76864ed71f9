"""The Ray backend: a project's missing frames rendered by the workers of a Ray cluster.

`RayBackend(address)` is a renderer backend (backends.py): each worker is a Ray actor holding
one `LocalBackend`, so it loads the model once and keeps it; `render` splits the render core's
batch into one chunk of `batch_size` frames per worker, and the frames come back to the driver,
which writes them into its frame store as always (the same keys, only missing frames, the same
progress after each batch, the same video). Keyframes are encoded once, on one worker. Address
"local" starts a cluster on this machine, "auto" joins the running one, "HOST:PORT" (or
"ray://HOST:PORT") joins that one. On a cluster with GPUs each worker takes one (`num_gpus=1`);
on one without, one worker per node takes its CPUs.

Actors, not Ray Data (whose Stable Diffusion example maps batches over a model-holding class):
- progress: the render core hands a backend one batch at a time, then writes, reports and
  yields (the CLI's bar, the studio's timeline). A Ray Data pipeline would own that loop from
  reading to writing, so the core would change and progress would come from Ray's iterator.
- retries: with actors we choose what is retried where. A worker that dies takes only its own
  chunk down; that chunk goes to the next free worker, the chunks already back are kept and
  never rendered again, and the dead worker is not restarted in its place (a restarted actor
  that cannot be placed would hang the render). Ray Data retries failed tasks on its own terms.
- memory: one chunk per worker is in flight, and its frames are written before more are sent,
  so the object store holds about workers x batch_size frames, however long the project.

Faults: a worker that dies mid-chunk is dropped and its chunk retried on another; with no worker
left, a `ClusterError`. The driver writes only whole frames (atomic writes), so a driver killed
mid-render leaves no partial frame, and the next render renders only the rest. No cluster at the
address, no room for a worker, or no worker that can load the model: a `ClusterError` before
anything is written.

Trust: Ray moves objects between the driver and its workers with pickle, and the workers run
this package's code (shipped to them as `py_modules`, so a worker renders exactly the driver's
pixels). A cluster is thus as trusted as this machine: name only your own, never an address a
visitor typed (the app takes it from its command line only). Ray is imported only here, and only
when a RayBackend connects.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections import deque
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .backends import LocalBackend
from .errors import ClusterError, InputError, ModelLoadError
from .memory import ModelOptions
from .project import Keyframe, RenderSettings
from .renderer import DEFAULT_BATCH

if TYPE_CHECKING:
    from .conditioning import Conditioning

LOCAL = "local"  # the address that starts a cluster on this machine
AUTO = "auto"  # the address of the cluster already running on this machine
RAY_MISSING = "--ray needs Ray, which is not installed: pip install -r requirements-ray.txt"
CONNECT_TIMEOUT_S = 5.0  # a cluster whose head does not take a connection in this long is not there
WORKER_START_TIMEOUT_S = 120.0  # workers not started in this long cannot be placed on the cluster
_PACKAGE = Path(__file__).resolve().parent  # this package, shipped to the workers
_HOST_PORT = re.compile(r"^(?:ray://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


def check_ray_address(address: str | None, field: str = "--ray") -> str:
    """LOCAL for None or "", else "auto", "HOST:PORT" or "ray://HOST:PORT"; InputError otherwise."""
    text = (address or "").strip() or LOCAL
    if text not in (LOCAL, AUTO) and not _HOST_PORT.match(text):
        raise InputError(
            f"{field} must be auto, HOST:PORT or ray://HOST:PORT (or nothing, for a local cluster), got {address!r}"
        )
    return text


def _import_ray():
    if find_spec("ray") is None:
        raise ClusterError(RAY_MISSING)
    import ray

    return ray


class RenderWorker:
    """One Ray actor: the model loaded once in its process, rendering the chunks it is handed."""

    def __init__(self, options: ModelOptions | None) -> None:
        self.backend = LocalBackend(options)

    def pid(self) -> int:
        """Its process id: an answer means the actor was placed and started."""
        return os.getpid()

    def load(self, model: str) -> None:
        from .models import load_model

        load_model(model, self.backend.options)

    def encode(self, settings: RenderSettings, keyframe: Keyframe, picture) -> Conditioning:
        return self.backend.encode_picture(settings, keyframe, picture)

    def check_fits(self, conditioning: Conditioning, name: str) -> None:
        self.backend.check_fits(conditioning, name)

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        return self.backend.render(settings, frames)

    def rendered(self) -> int:
        """Frames this worker rendered (a chunk retried elsewhere counts only there)."""
        return self.backend.rendered


class RayBackend:
    """Renders on the workers of a Ray cluster; connects on `connect()` or first use."""

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        batch_size: int = DEFAULT_BATCH,
        options: ModelOptions | None = None,
    ) -> None:
        self.address = check_ray_address(address)
        self.workers_asked = workers  # None: one per GPU, or one per node on a CPU cluster
        self.batch_size = batch_size  # frames per model call on a worker
        self.options = options  # memory options, passed on to every worker
        self.rendered = 0  # frames received so far
        self.workers_lost = 0  # workers that died during this backend's renders
        self._workers: list = []  # actor handles of the live workers; empty until connected
        self._loaded: set[str] = set()  # models every live worker has loaded
        self._connected_here = False  # this backend called ray.init, so close() shuts it down

    def __repr__(self) -> str:
        return f"RayBackend({self.address!r})"

    @property
    def where(self) -> str:
        return "a local Ray cluster" if self.address == LOCAL else f"the Ray cluster at {self.address}"

    @property
    def frames_per_call(self) -> int:
        """The batch the render core should hand `render`: one chunk for each worker (connects)."""
        self.connect()
        return self.batch_size * len(self._workers)

    # Connecting ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Join (or start) the cluster and start the workers; ClusterError when it cannot."""
        if self._workers:
            return
        ray = _import_ray()
        if not ray.is_initialized():  # a notebook may have connected already: that connection is used
            self._init(ray)
        count, resources = self._worker_shape(ray)
        actor = ray.remote(RenderWorker).options(**resources, scheduling_strategy="SPREAD")
        workers = [actor.remote(self.options) for _ in range(count)]
        ready, _ = ray.wait([w.pid.remote() for w in workers], num_returns=count, timeout=WORKER_START_TIMEOUT_S)
        if len(ready) < count:
            for worker in workers:
                ray.kill(worker)
            raise ClusterError(
                f"{self.where} started {len(ready)} of {count} workers ({_shape(resources)} each) "
                f"in {WORKER_START_TIMEOUT_S:.0f} s: its resources are taken or it has none that fit"
            )
        self._workers = workers

    def _init(self, ray) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        if self.address not in (LOCAL, AUTO):
            _check_reachable(self.address)
        started = {"include_dashboard": False} if self.address == LOCAL else {}
        try:
            ray.init(
                address=self.address,
                runtime_env={"py_modules": [str(_PACKAGE)]},
                logging_level=logging.ERROR,
                log_to_driver=False,  # the workers' output stays in the cluster's logs
                **started,
            )
        except ConnectionError as exc:
            raise ClusterError(f"cannot join {self.where}: {_first_line(exc)}") from None
        self._connected_here = True

    def _worker_shape(self, ray) -> tuple[int, dict]:
        """How many workers, and the resources each asks for: a GPU each, else a node's CPUs."""
        total = ray.cluster_resources()
        gpus, cpus = int(total.get("GPU", 0)), int(total.get("CPU", 0))
        if gpus:
            count, resources, room = self.workers_asked or gpus, {"num_gpus": 1, "num_cpus": 1}, gpus
        else:
            node_cpus = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]]
            node_cpus = [c for c in node_cpus if c >= 1]
            if not node_cpus:
                raise ClusterError(f"{self.where} has no GPU and no CPU to run a worker on")
            count = self.workers_asked or len(node_cpus)
            resources = {"num_cpus": max(1, min(min(node_cpus), cpus // count))}
            room = cpus // resources["num_cpus"]
        if count > room:
            raise ClusterError(
                f"{self.where} has room for {room} workers ({_shape(resources)} each), not the {count} asked for"
            )
        return count, resources

    # Work on the workers ------------------------------------------------------------------

    def load(self, model: str) -> None:
        """Every worker loads the model once; those that cannot are dropped (all: ClusterError)."""
        if model in self._loaded:
            return
        self.connect()
        ray = _import_ray()
        failures = []
        for worker, ref in [(w, w.load.remote(model)) for w in self._workers]:
            try:
                ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the worker could not load it
                failures.append(_first_line(exc.cause))
                self._drop(worker, died=False)
            except ray.exceptions.RayActorError:
                self._drop(worker)
        if not self._workers:
            reason = f": {failures[0]}" if failures else ": every worker died"
            raise ClusterError(f"no worker of {self.where} could load model {model!r}{reason}")
        self._loaded.add(model)

    def _on_any_worker(self, method: str, *args: Any) -> Any:
        """One call on the first live worker, on the next one if that one dies."""
        ray = _import_ray()
        while self._workers:
            worker = self._workers[0]
            try:
                return ray.get(getattr(worker, method).remote(*args))
            except ray.exceptions.RayActorError:
                self._drop(worker)
            except ray.exceptions.RayTaskError as exc:
                raise _worker_failure(exc, self.where) from None
        raise self._none_left()

    def encode(self, settings: RenderSettings, keyframe: Keyframe) -> Conditioning:
        """A keyframe's conditioning, encoded on one worker; an image keyframe's picture is read here."""
        from .keyframe_image import open_keyframe_image

        picture = open_keyframe_image(keyframe.image) if keyframe.image is not None else None
        self.load(settings.model)
        return self._on_any_worker("encode", settings, keyframe, picture)

    def check_fits(self, conditioning: Conditioning, name: str) -> None:
        """InputError naming `name` unless the conditioning suits its model (checked on a worker)."""
        self.load(conditioning.settings.model)
        self._on_any_worker("check_fits", conditioning, name)

    def render(self, settings: RenderSettings, frames: list) -> list[np.ndarray]:
        """(H, W, 3) uint8 images, in order: chunks of batch_size frames spread over the workers.

        A chunk whose worker dies goes to the next free worker; chunks already back are kept."""
        ray = _import_ray()
        self.load(settings.model)
        chunks = [frames[first : first + self.batch_size] for first in range(0, len(frames), self.batch_size)]
        results: list[list[np.ndarray] | None] = [None] * len(chunks)
        waiting = deque(range(len(chunks)))
        idle = list(self._workers)
        running: dict = {}  # ObjectRef -> (chunk index, worker)
        while waiting or running:
            # 1. Every idle worker takes the next chunk.
            while waiting and idle:
                index, worker = waiting.popleft(), idle.pop()
                running[worker.render.remote(settings, chunks[index])] = (index, worker)
            if not running:
                raise self._none_left()
            # 2. Take the first chunk back; a dead worker's chunk waits for the next free one.
            [ref], _ = ray.wait(list(running), num_returns=1)
            index, worker = running.pop(ref)
            try:
                results[index] = ray.get(ref)
            except ray.exceptions.RayActorError:
                self._drop(worker)
                waiting.appendleft(index)
                continue
            except ray.exceptions.RayTaskError as exc:
                raise _worker_failure(exc, self.where) from None
            idle.append(worker)
        images = [image for chunk in results for image in chunk]
        self.rendered += len(images)
        return images

    def _drop(self, worker, died: bool = True) -> None:
        """A worker out of the pool: dead, or unable to load the model (then it is ended)."""
        self._workers.remove(worker)
        if died:
            self.workers_lost += 1
        else:
            _import_ray().kill(worker)

    def _none_left(self) -> ClusterError:
        return ClusterError(
            f"every worker of {self.where} died; frames received so far are kept: render again to go on"
        )

    # Reporting and closing ----------------------------------------------------------------

    def stats(self) -> dict:
        """Where it rendered and how: for the CLI's --json."""
        counts = self._workers and _import_ray().get([w.rendered.remote() for w in self._workers])
        return {
            "address": self.address,
            "workers": len(self._workers) + self.workers_lost,
            "workers_lost": self.workers_lost,
            "frames_per_worker": list(counts or []),  # the live workers' own counts
        }

    def close(self) -> None:
        """End the workers; leave (or stop, when started here) the cluster."""
        if find_spec("ray") is None:
            return
        import ray

        for worker in self._workers:
            ray.kill(worker)
        self._workers, self._loaded = [], set()
        if self._connected_here:
            ray.shutdown()
            self._connected_here = False


def _check_reachable(address: str) -> None:
    """One quick connection to the head, instead of Ray's minutes of retries at a wrong address."""
    match = _HOST_PORT.match(address)
    host, port = match["host"].strip("[]"), int(match["port"])
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ClusterError(f"no Ray cluster answers at {address} ({exc.strerror or exc})") from None


def _worker_failure(exc, where: str) -> Exception:
    """A worker's own exception: our errors as they are, anything else as a ClusterError."""
    cause = exc.cause
    if isinstance(cause, (InputError, ModelLoadError, ClusterError)):
        return cause
    return ClusterError(f"a worker of {where} failed: {type(cause).__name__}: {_first_line(cause)}")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _shape(resources: dict) -> str:
    parts = [f"{resources[k]} {what}" for k, what in (("num_gpus", "GPU"), ("num_cpus", "CPU")) if k in resources]
    return " and ".join(parts)
