"""The benchmark, run on the demo model with a few frames: every measure is there, and the
re-render after one edit is exactly the two segments around it. No timing is asserted."""

import json

import pytest
from cli import run_cli

from pipeline.bench import cli, main
from pipeline.bench.cli import options


@pytest.mark.slow
def test_bench_reports_every_measure_and_rerenders_exactly_two_segments(tmp_path, demo_model_dir):
    out = tmp_path / "bench.json"
    argv = ["--size", "demo", "--frames", "13", "--inbetweens", "2", "--repeats", "1", "--walk-frames", "4"]
    run = run_cli(*argv, "--json", out, module="pipeline.bench", timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    r = json.loads(out.read_text())

    # Keyframes at 0, 3, 6, 9, 12; editing the one at 6 redoes frames 4..8 and nothing else.
    assert r["rerender"]["frames_total"] == 13
    assert r["rerender"]["full"]["frames"] == 13
    assert r["rerender"]["edit"]["frames"] == 5 == r["rerender"]["expected_frames"]
    assert r["rerender"]["edit"]["reused"] == 8
    assert r["rerender"]["exact"] is True
    # Everything cached: nothing rendered, and neither torch nor diffusers imported.
    assert r["noop"]["rendered"] == 0 and r["noop"]["frames_total"] == 13
    assert r["noop"]["torch_imported"] is False and r["noop"]["diffusers_imported"] is False
    assert r["noop"]["peak_rss_mb"] < r["walk"]["ours_cli"]["peak_rss_mb"]  # no model in memory
    # The same two in-betweens through our renderer at each batch size and through the bare loop.
    assert r["throughput"]["frames"] == 2
    assert [b["batch"] for b in r["throughput"]["batches"]] == [1, 2, 4, 8]
    assert all(len(v) == 1 for v in r["throughput"]["samples"].values())
    assert r["throughput"]["max_pixel_diff"] <= 2  # the same frames, up to float rounding
    assert r["video"]["width"] == r["video"]["height"] == 512 and r["video"]["frames"] == 13
    assert r["video"]["bytes_per_frame"] > 0
    assert r["memory"]["peak_rss_mb"] > 0 and r["memory"]["gpu_peak_mb"] is None
    assert r["walk"]["ours_cli"]["rendered"] == 4 and r["walk"]["ours_cli"]["torch_imported"] is True
    assert "peer" not in r["walk"]
    assert r["settings"]["size"] == "demo" and r["settings"]["gflop_per_frame"] > 0
    smooth = r["smoothness"]
    assert smooth["frames"] == 7 and smooth["segments"] == 2 and smooth["probe_fraction"] > 0
    for variant in ("uniform", "even", "spline"):
        assert 0 < smooth[variant]["smoothness"] <= 1 and smooth[variant]["max_jump"] >= 1
        assert smooth[variant]["frames_rendered"] == 7 - (variant == "even") * 3  # even: keyframes came with the probe
    assert r["checks"]["rerender_exactly_two_segments"] and r["checks"]["noop_without_torch"]
    assert set(r["checks"]) >= {"noop_under_target", "ratio_vs_bare_under_target", "mp4_fps_over_target"}
    measures = ("re-render after 1 edit", "no-op render", "bare diffusers", "batch scaling", "mp4", "peak memory")
    for measure in (*measures, "smoothness"):
        assert measure in run.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--frames", "5"], "--frames must be at least 9"),
        (["--repeats", "0"], "--repeats must be at least 1"),
        (["--walk-frames", "1"], "--walk-frames must be at least"),
        (
            ["--peer-dir", "/nonexistent/peer"],
            "--peer-dir /nonexistent/peer does not hold the peer's setup.sh and walk.py",
        ),
        (["--peer", "--device", "cuda"], "--peer needs --device cpu"),
    ],
)
def test_bench_refuses_bad_options_naming_them(argv, message):
    with pytest.raises(SystemExit, match=message):
        main(argv)


def test_the_peer_folder_is_an_option_and_a_missing_default_skips_the_peer_with_a_note(tmp_path, monkeypatch):
    peer = tmp_path / "peer"
    peer.mkdir()
    for name in ("setup.sh", "walk.py"):
        (peer / name).write_text("")
    chosen = options(["--peer-dir", str(peer)])  # implies --peer
    assert (chosen.peer_dir, chosen.peer_note) == (peer, None)
    monkeypatch.setattr(cli, "DEFAULT_PEER_DIR", peer)
    assert options(["--peer"]).peer_dir == peer
    assert options([]).peer_dir is None  # no peer unless asked for
    monkeypatch.setattr(cli, "DEFAULT_PEER_DIR", tmp_path / "absent")
    skipped = options(["--peer"])
    assert skipped.peer_dir is None
    assert skipped.peer_note == (
        f"peer skipped: no setup.sh and walk.py in {tmp_path / 'absent'} (--peer-dir DIR names the folder)"
    )


@pytest.mark.slow
def test_fast_mode_bench_reports_speed_up_psnr_and_channels_last(tmp_path, demo_model_dir):
    out = tmp_path / "fast.json"
    # A process of its own, as the bench above: it sets torch's threads, which would change this process's pixels.
    run = run_cli("--fast-mode", "--size", "demo", "--json", out, module="pipeline.bench", timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    r = json.loads(out.read_text())
    fast = r["fast_mode"]
    assert (fast["steps"], fast["side"]) == (25, 256)
    assert fast["exact"]["cost"] > 0 and fast["fast"]["cost"] > 0 and fast["speedup"] > 0
    assert 35 <= fast["psnr_min"] <= fast["psnr_mean"] < float("inf")  # fast frames differ, slightly
    last = r["channels_last"]
    assert last["max_pixel_diff"] <= 2 and last["channels_last_vs_contiguous"] > 0  # the same frame, up to rounding
    assert list(r["goals"]) == ["fast mode >= 1.6x exact at 25 steps"]
    assert "Fast mode vs exact" in run.stdout
