"""Drafts: `render --draft`, then finals; draft keys apart from finals'; the store evicts drafts first."""

import json

import av
import numpy as np
import pytest
from cli import main_json, stored_frames
from conftest import write_project

from pipeline.draft import draft_settings, plan_drafts
from pipeline.frame_store import FrameStore
from pipeline.project import TINY_DECODER, load_project, parse_settings
from pipeline.timeline import plan_timeline


@pytest.fixture
def project_file(tmp_path, demo_model_dir):
    keyframes = [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 4, "prompt": "a city", "seed": 2}]
    return write_project(tmp_path / "p.json", keyframes, steps=2)


def test_draft_then_final_story(capsys, tmp_path, project_file):
    cache, video = tmp_path / "cache", tmp_path / "draft.mp4"
    # 1. Drafts: every frame, shown as drafts; the preview plays with every frame.
    drafted = main_json(capsys, "render", project_file, "--out", video, "--cache", cache, "--draft")
    assert (drafted["frames_total"], drafted["rendered"]) == (5, 5)
    status = main_json(capsys, "status", project_file, "--cache", cache)
    assert (status["drafts"], status["rendered"], status["missing"]) == (5, 0, 0)
    assert {f["state"] for f in status["frames"]} == {"draft"} and status["segments"][0]["state"] == "draft"
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    # 2. Finals: every frame again, under other keys; a third render renders nothing.
    assert main_json(capsys, "render", project_file, "--out", tmp_path / "v.mp4", "--cache", cache)["rendered"] == 5
    assert main_json(capsys, "render", project_file, "--out", tmp_path / "v.mp4", "--cache", cache)["rendered"] == 0
    assert len(stored_frames(cache)) == 10
    status = main_json(capsys, "status", project_file, "--cache", cache)
    assert (status["drafts"], status["rendered"]) == (0, 5)
    # 3. With finals there, a draft render renders nothing: a segment that has finals shows them.
    assert main_json(capsys, "render", project_file, "--out", video, "--cache", cache, "--draft")["rendered"] == 0


def test_draft_pixels_differ_from_finals(capsys, tmp_path, project_file):
    cache = tmp_path / "cache"
    main_json(capsys, "render", project_file, "--out", tmp_path / "d.mp4", "--cache", cache, "--draft")
    main_json(capsys, "render", project_file, "--out", tmp_path / "f.mp4", "--cache", cache)
    project, store = load_project(project_file), FrameStore(cache)
    plans = plan_timeline(project)
    for plan, draft in zip(plans, plan_drafts(project, plans), strict=True):
        assert draft.key != plan.key and draft.recipe.settings.decoder == TINY_DECODER
        final, preview = store.read(plan.key), store.read(draft.key)
        assert final.shape == preview.shape == (64, 64, 3)
        assert np.abs(final.astype(int) - preview.astype(int)).mean() > 5  # another decoder drew it


def test_finals_keys_ignore_the_decoder_field():
    settings = parse_settings({"model": "demo"})
    assert "decoder" not in settings.key_fields()
    assert "decoder" in draft_settings(settings).settings.key_fields()


def test_no_tiny_decoder_drafts_smaller_with_fewer_steps_and_a_notice(tmp_path):
    # A local folder without tiny_vae/, offline (conftest), and taesd not in the cache.
    settings = parse_settings({"model": str(tmp_path), "width": 512, "height": 384, "steps": 4})
    draft = draft_settings(settings)
    assert (draft.settings.width, draft.settings.height, draft.settings.steps) == (256, 192, 2)
    assert draft.settings.decoder == "vae" and "256x192 with 2 steps" in draft.notice


def test_eviction_takes_drafts_before_older_finals(tmp_path):
    store = FrameStore(tmp_path, max_bytes=10**9)
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    finals, drafts = ["a" * 64, "b" * 64], ["c" * 64, "d" * 64]
    for key in finals:
        store.write(key, image)
    for key in drafts:  # newer than the finals: plain LRU would keep them
        store.write(key, image, draft=True)
    store.max_bytes = 3 * store.path(finals[0]).stat().st_size  # room for three of the four
    assert store.evict() == 1
    assert sum(store.has(key) for key in drafts) == 1 and all(store.has(key) for key in finals)
    store.max_bytes = 2 * store.path(finals[0]).stat().st_size
    assert store.evict() == 1
    assert not any(store.has(key) for key in drafts) and all(store.has(key) for key in finals)
    assert json.dumps(sorted((tmp_path / "drafts").iterdir())) == "[]"


def test_a_narrow_vae_drafts_smaller_rather_than_with_a_slower_tiny_decoder(tmp_path):
    (tmp_path / "vae").mkdir()
    (tmp_path / "vae" / "config.json").write_text(json.dumps({"block_out_channels": [32, 32, 64, 64]}))
    (tmp_path / "tiny_vae").mkdir()
    (tmp_path / "tiny_vae" / "config.json").write_text("{}")  # a tiny decoder is there, but costs more
    draft = draft_settings(parse_settings({"model": str(tmp_path), "width": 256, "height": 256, "steps": 2}))
    assert (draft.settings.decoder, draft.settings.width, draft.settings.steps) == ("vae", 128, 1)
    assert "lighter than a tiny decoder" in draft.notice


def test_a_draft_batch_for_a_remote_carries_its_decoder(tmp_path, demo_model_dir):
    from pipeline.backends import LocalBackend
    from pipeline.frame_batch import load_batch, save_batch
    from pipeline.project import Keyframe

    settings = parse_settings({"model": "demo"})
    draft = draft_settings(settings).settings
    tensors = LocalBackend().encode(draft.for_encoding(), Keyframe(0, "a fox", seed=1)).tensors
    received = load_batch(save_batch(draft, [tensors], tmp_path / "b.safetensors"))
    assert received[0].settings == draft and received[0].settings.decoder == TINY_DECODER
    final = load_batch(save_batch(settings, [tensors], tmp_path / "f.safetensors"))  # files of finals as before
    assert final[0].settings == settings
