"""The frame store's size limit: least recently used frames go, pinned frames (a render in progress) stay.

Most tests render with `FakeBackend` (no model): eviction is about files, not pictures. One
test drives the real CLI, one `/interpolate` (service.interpolate) on the demo model.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from cli import run_cli
from conftest import PYTHON, ROOT, write_project
from fake_backend import FakeBackend

from pipeline import service
from pipeline.backends import LocalBackend
from pipeline.frame_store import FrameStore
from pipeline.project import Keyframe, RenderSettings, load_project, parse_project
from pipeline.renderer import render_project
from pipeline.timeline import plan_timeline

PIN_SCRIPT = """
import sys
from pipeline.frame_store import FrameStore
with FrameStore(sys.argv[1]).pinned(sys.argv[2:]):
    print("pinned", flush=True)
    sys.stdin.read()
"""


def noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def age(store: FrameStore, keys: list[str]) -> None:
    """Give keys increasing last-use times an hour ago, in order: keys[0] is the least recently used."""
    start = time.time() - 3600
    for i, key in enumerate(keys):
        os.utime(store.path(key), (start + i, start + i))


def present(store: FrameStore, keys: list[str]) -> list[str]:
    return [k for k in keys if store.has(k)]


KEYS = [f"{i:064x}" for i in range(8)]


@pytest.fixture
def filled(tmp_path) -> tuple[FrameStore, int]:
    """A store holding 8 frames of equal size, KEYS[0] the least recently used; and that size."""
    store = FrameStore(tmp_path / "frames")
    for i, key in enumerate(KEYS):
        store.write(key, noise(i))
    age(store, KEYS)
    sizes = {store.path(k).stat().st_size for k in KEYS}
    assert len(sizes) == 1
    return store, sizes.pop()


def test_the_least_recently_used_unpinned_frames_go_first(filled):
    store, size = filled
    store.max_bytes = 5 * size + size // 2
    with store.pinned(KEYS[:2]):
        assert store.evict() == 3
    assert present(store, KEYS) == KEYS[:2] + KEYS[5:]  # the two oldest were pinned
    assert store.evict() == 0  # it fits now
    store.max_bytes = 3 * size
    assert store.evict() == 2
    assert present(store, KEYS) == KEYS[5:]
    assert not list((store.root / "pins").glob("*.json"))


def test_reading_a_frame_makes_it_recently_used(filled):
    store, size = filled
    assert store.read(KEYS[0]).shape == (64, 64, 3)
    store.max_bytes = 6 * size
    assert store.evict() == 2
    assert present(store, KEYS) == [KEYS[0], *KEYS[3:]]


def test_a_store_under_its_limit_keeps_everything(filled):
    store, size = filled
    store.max_bytes = 8 * size
    assert store.evict() == 0
    assert present(store, KEYS) == KEYS


def test_pins_hold_across_processes_until_their_process_ends(filled):
    store, _ = filled
    store.max_bytes = 0
    holders = []
    for pinned in (KEYS[:2], KEYS[2:4]):
        holder = subprocess.Popen(
            [PYTHON, "-c", PIN_SCRIPT, str(store.root), *pinned],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout.readline() == "pinned\n"
        holders.append(holder)
    assert store.evict() == 4
    assert present(store, KEYS) == KEYS[:4]
    # The first holder ends normally and releases its pin; the second is killed and leaves its pin file.
    holders[0].communicate("", timeout=60)
    holders[1].send_signal(signal.SIGKILL)
    holders[1].wait(timeout=60)
    assert len(list((store.root / "pins").glob("*.json"))) == 1
    assert store.evict() == 4  # a dead process's pin holds nothing
    assert present(store, KEYS) == []
    assert not list((store.root / "pins").glob("*.json"))


def project(prompt: str, seed: int, last: int = 5):
    return parse_project(
        {
            "model": "demo",
            "width": 64,
            "height": 64,
            "steps": 4,
            "keyframes": [
                {"frame": 0, "prompt": prompt, "seed": seed},
                {"frame": last, "prompt": f"then {prompt}", "seed": 9},
            ],
        }
    )


def frame_files(store: FrameStore) -> set[Path]:
    return set(store.root.glob("??/*.png"))


def test_a_render_evicts_others_frames_never_its_own_and_a_rerender_redraws_exactly_the_evicted(tmp_path):
    store, backend = FrameStore(tmp_path / "frames"), FakeBackend()
    first, second = project("a fox", 1), project("a city", 2)
    first_keys = [p.key for p in plan_timeline(first)]
    second_keys = [p.key for p in plan_timeline(second)]
    assert render_project(first, store, backend).rendered == 6
    size = store.path(first_keys[0]).stat().st_size
    age(store, first_keys)

    # 1. The second project's render pushes the store past 9.5 frames: the first's three oldest go.
    store.max_bytes = 9 * size + size // 2
    report = render_project(second, store, backend)
    assert (report.rendered, report.evicted) == (6, 3)
    assert present(store, first_keys) == first_keys[3:]
    assert present(store, second_keys) == second_keys

    # 2. Rendering the first again draws exactly the evicted frames, nothing else.
    before, backend.rendered = frame_files(store), 0
    report = render_project(first, store, backend)
    assert (report.rendered, report.reused, backend.rendered) == (3, 3, 3)
    assert frame_files(store) - before == {store.path(k) for k in first_keys[:3]}
    assert present(store, first_keys) == first_keys

    # 3. A store too small for even one project keeps every frame of the render in progress.
    store.max_bytes = 1
    report = render_project(project("a lake", 3), store, backend)
    assert report.rendered == 6 and len(frame_files(store)) == 6


def test_interpolate_keeps_the_store_under_store_bytes_and_never_evicts_its_own_frames(
    demo_model_dir, tmp_path, set_limits
):
    backend, root = LocalBackend(), tmp_path / "frames"
    settings = RenderSettings("demo", 64, 64, 4, 0.0, "euler")
    a, b, c = (
        service.encode(settings, Keyframe(0, p, seed=s), backend, tmp_path)
        for p, s in (("a fox", 1), ("a city", 2), ("a lake", 3))
    )

    def interpolate(start, end) -> list[str]:
        return [path.stem for path in service.interpolate(start, end, 4, "demo", FrameStore(root), backend)]

    def stored_bytes() -> int:
        return sum(path.stat().st_size for path in frame_files(FrameStore(root)))

    # 1. Four in-betweens of a fox and a city, long ago.
    first = interpolate(a, b)
    age(FrameStore(root), first)
    limit = stored_bytes() * 3 // 2

    # 2. Under SDVC_STORE_BYTES of six such frames, four more push out the oldest of the first four.
    set_limits(store_bytes=limit)
    second = interpolate(a, c)
    assert present(FrameStore(root), second) == second
    kept = present(FrameStore(root), first)
    assert len(kept) < 4 and kept == first[4 - len(kept) :]  # least recently used first
    assert stored_bytes() <= limit

    # 3. A store too small for one frame keeps every frame of the call in progress, even the old
    #    ones it reuses, and renders only those evicted before.
    set_limits(store_bytes=1)
    backend.rendered = 0
    assert interpolate(a, b) == first
    assert backend.rendered == 4 - len(kept)
    assert present(FrameStore(root), first) == first and present(FrameStore(root), second) == []


@pytest.mark.slow
def test_the_cli_keeps_the_store_under_store_limit(tmp_path):
    store = FrameStore(tmp_path / "frames")
    old = write_project(
        tmp_path / "old.json", [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 3, "prompt": "x"}]
    )
    new = write_project(tmp_path / "new.json", [{"frame": 0, "prompt": "a city", "seed": 2}])
    assert render_project(load_project(old), store, FakeBackend()).rendered == 4
    common = ["--cache", str(store.root), "--json"]
    result = run_cli("render", new, "--out", tmp_path / "new.mp4", "--store-limit", "1", *common)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert (report["rendered"], report["evicted"]) == (1, 4)
    assert "evicted 4 least recently used frames" in result.stdout
    status = run_cli("status", old, *common, timeout=120)
    assert json.loads(status.stdout.splitlines()[-1])["missing"] == 4
    assert len(frame_files(store)) == 1


def test_orphan_cleanup_removes_the_pins_of_dead_processes(filled):
    store, _ = filled
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead_pin = store.root / "pins" / f"{ended.pid}-crashed.json"
    dead_pin.parent.mkdir(exist_ok=True)
    dead_pin.write_text(json.dumps(KEYS))
    with store.pinned(KEYS[:1]):
        store.remove_orphans()
        assert [p.name for p in (store.root / "pins").glob("*.json")] != [dead_pin.name]
        assert len(list((store.root / "pins").glob("*.json"))) == 1  # this process's own pin stays
    assert not list((store.root / "pins").glob("*.json"))


def test_a_frame_being_written_is_neither_counted_nor_evicted(filled):
    store, size = filled
    writing = store.path(KEYS[0]).parent / f".tmp-{os.getpid()}-inflight.png"  # as atomic_write names it
    writing.write_bytes(bytes(100 * size))
    store.max_bytes = 8 * size
    assert store.evict() == 0
    store.max_bytes = 0
    assert store.evict() == 8
    assert writing.exists()
