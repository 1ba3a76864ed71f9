"""The Ray backend on a local two-node cluster of CPU workers made here: the same frames as a local
render, each rendered once, a worker killed mid-render, the driver killed, no cluster, no model.

One cluster for the module (two nodes of one CPU each: one worker each), shut down at its end.
"""

import json
import os
import signal
import threading
import time

import pytest
from cli import run_cli, run_main, start_cli, stored_frames
from conftest import write_project
from pixels import assert_same_frame, pixels

from pipeline.backends import LocalBackend
from pipeline.frame_store import FrameStore
from pipeline.project import load_project
from pipeline.ray_backend import RayBackend
from pipeline.renderer import render_project
from pipeline.timeline import plan_timeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(demo_model_dir):
    """Two nodes, one CPU each; the workers inherit SDVC_HOME, so they load the session's demo model."""
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    made.add_node(num_cpus=1)
    yield made.address
    made.shutdown()


@pytest.fixture
def project(tmp_path, three_keyframes):
    return write_project(tmp_path / "project.json", three_keyframes)


def test_ray_render_gives_the_local_frames_each_rendered_once(cluster, project, tmp_path):
    cache = tmp_path / "ray-frames"
    result = run_cli("render", project, "--out", tmp_path / "v.mp4", "--cache", cache, "--ray", cluster, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert (stats["frames_total"], stats["rendered"], stats["reused"]) == (20, 20, 0)
    assert stats["ray"]["workers"] == 2 and stats["ray"]["workers_lost"] == 0
    assert sum(stats["ray"]["frames_per_worker"]) == 20  # the workers' own counts: no frame twice
    assert (tmp_path / "v.mp4").stat().st_size > 0
    local = FrameStore(tmp_path / "local-frames")
    render_project(load_project(project), local, LocalBackend())
    frames = stored_frames(cache)
    for plan in plan_timeline(load_project(project)):
        assert_same_frame(pixels(frames[plan.key]), local.read(plan.key), f"frame {plan.index}")


def test_a_worker_killed_mid_render_has_its_chunk_retried_elsewhere(cluster, project, tmp_path):
    import ray

    ray.init(address=cluster, logging_level="ERROR", log_to_driver=False)
    backend = RayBackend(cluster, batch_size=2)
    store = FrameStore(tmp_path / "frames")
    written: list[str] = []
    write = store.write
    store.write = lambda key, image, **options: (written.append(key), write(key, image, **options))[-1]
    try:
        backend.connect()
        victim = ray.get(backend._workers[0].pid.remote())

        def kill_when_busy() -> None:  # after the first frames, while the workers render the next chunks
            while backend.rendered < 4:
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        report = render_project(load_project(project), store, backend, batch_size=backend.frames_per_call)
        killer.join()
        assert (report.rendered, backend.workers_lost) == (20, 1)
        assert sorted(written) == sorted(set(written)) and len(written) == 20  # every frame written once
        assert set(stored_frames(store.root)) == {p.key for p in plan_timeline(load_project(project))}
    finally:
        backend.close()
        ray.shutdown()


def test_a_driver_killed_mid_render_leaves_whole_frames_and_the_next_renders_the_rest(cluster, project, tmp_path):
    cache = tmp_path / "frames"
    args = ("render", project, "--out", tmp_path / "v.mp4", "--cache", cache, "--ray", cluster, "--batch", "1")
    driver = start_cli(*args)
    deadline = time.monotonic() + 240
    while len(stored_frames(cache)) < 2 and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    kept = stored_frames(cache)
    assert 2 <= len(kept) < 20
    for path in kept.values():
        assert pixels(path).shape == (64, 64, 3)  # whole PNGs only: a partial one would not decode
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert (stats["rendered"], stats["reused"]) == (20 - len(kept), len(kept))


def test_a_cluster_whose_workers_cannot_load_the_model_says_so_and_writes_nothing(cluster, tmp_path, capsys):
    project = write_project(tmp_path / "p.json", [{"frame": 0, "prompt": "a", "seed": 1}], model="nobody/no-model")
    cache = tmp_path / "frames"
    code, _, err = run_main(capsys, "render", project, "--out", tmp_path / "v.mp4", "--cache", cache, "--ray", cluster)
    assert code == 1
    assert err.startswith("error: no worker of the Ray cluster at") and "'nobody/no-model'" in err
    assert len(err.strip().splitlines()) == 1
    assert stored_frames(cache) == {} and not (tmp_path / "v.mp4").exists()


def test_no_cluster_at_the_address_is_one_line_and_nothing_written(project, tmp_path, capsys):
    cache = tmp_path / "frames"
    args = ("render", project, "--out", tmp_path / "v.mp4", "--cache", cache, "--ray", "127.0.0.1:1")
    code, _, err = run_main(capsys, *args)
    assert (code, err) == (1, "error: no Ray cluster answers at 127.0.0.1:1 (Connection refused)\n")
    assert stored_frames(cache) == {} and not (tmp_path / "v.mp4").exists()
