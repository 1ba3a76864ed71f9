"""The app's parts without a server: model fallback notice, in-between keys, the timeline view,
prompt row operations, quiet refresh on bad edits (the Colab notebook: test_notebook.py)."""

import torch

from pipeline.conditioning import Conditioning
from pipeline.frame_store import FrameStore
from pipeline.inbetweens import inbetween_fractions, plan_inbetweens
from pipeline.model_choice import ModelChoice
from pipeline.project import parse_project

DEMO_CHOICE = ModelChoice("demo", "demo", "")  # a server on the demo model (not loaded: these handlers need none)


def test_an_unloadable_model_falls_back_to_demo_with_a_notice(demo_model_dir, tmp_path):
    from ui.context import build_context
    from ui.studio import create_demo

    ctx = build_context("sd-turbo", tmp_path / "frames")  # offline: not in the cache, hub unreachable
    assert (ctx.model.requested, ctx.model.active) == ("sd-turbo", "demo")
    assert "sd-turbo" in ctx.model.notice and "HF_HUB_OFFLINE" in ctx.model.notice
    demo = create_demo(ctx)
    notice = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "model-notice")
    assert notice.visible and ctx.model.notice in notice.value
    assert set(ctx.allowed_paths) >= {str(tmp_path / "frames")}


def conditioning(noise_seed: int, prompt: str) -> Conditioning:
    generator = torch.Generator().manual_seed(noise_seed)
    tensors = {
        "prompt_embeds": torch.randn(1, 77, 32, generator=generator),
        "latents": torch.randn(1, 4, 8, 8, generator=generator),
    }
    metadata = {
        "format": "sd-video-creator/conditioning-v1",
        "model": "demo",
        "width": "64",
        "height": "64",
        "steps": "4",
        "guidance": "0.0",
        "scheduler": "euler",
        "prompt": prompt,
        "negative_prompt": "",
        "style": "none",
        "seed": str(noise_seed),
    }
    return Conditioning(tensors, metadata)


def test_in_between_keys_hash_the_tensors_not_what_the_metadata_claims():
    honest, other = conditioning(1, "a fox"), conditioning(2, "a city")
    # A forged file: another file's tensors under the honest file's prompt and seed.
    forged = Conditioning(other.tensors, dict(honest.metadata))

    def key(start: Conditioning) -> str:  # of the third of five in-betweens
        return plan_inbetweens(start, other, 5)[2].key

    assert key(forged) != key(honest)
    # Relabelling the same tensors changes nothing.
    relabelled = Conditioning(honest.tensors, {**honest.metadata, "prompt": "something else", "seed": "99"})
    assert key(relabelled) == key(honest)
    assert inbetween_fractions(3) == [0.25, 0.5, 0.75]


def project(**changes):
    data = {
        "model": "demo",
        "width": 64,
        "height": 64,
        "steps": 4,
        "keyframes": [
            {"frame": 0, "prompt": "a", "seed": 1},
            {"frame": 3, "prompt": "b", "seed": 2},
            {"frame": 6, "prompt": "c", "seed": 3},
        ],
    }
    return parse_project({**data, **changes})


def test_timeline_view_draws_a_cell_per_frame_and_the_segments(tmp_path):
    from pipeline.timeline import plan_timeline
    from ui.timeline_view import build_view

    store = FrameStore(tmp_path)
    proj = project()
    plans = plan_timeline(proj)
    for plan in plans[:4]:  # segment 1 rendered, keyframe 3 included
        store.write(plan.key, torch.zeros(64, 64, 3, dtype=torch.uint8).numpy())
    view = build_view(proj, store, "0" * 32, [1])
    assert view.payload["frames"] == 7 and view.payload["states"] == "krrkmmm"  # one char a frame, drawn by the page
    assert view.payload["dim"] == [[1, 2]]  # frames 1-2 belong to the unselected segment 0 (keyframes never dim)
    assert [k["frame"] for k in view.payload["keyframes"]] == [0, 3, 6]
    assert view.payload["keyframes"][1]["thumb"].endswith(".png") and view.payload["keyframes"][2]["thumb"] is None
    # Segment 0's frames are all alike: perfectly even, no jump; segment 1 is not scored until rendered.
    assert view.table == [[1, "0–3", "4/4", "rendered", "1.000", "1.00"], [2, "3–6", "1/4", "partial", "", ""]]
    assert view.choices == [("1 · frames 0–3", 0), ("2 · frames 3–6", 1)] and view.selected == [1]


def test_row_operations_keep_positions_and_start_at_zero():
    from ui import form

    rows = project().to_json()["keyframes"]
    moved = form.move_row(rows, 2, -1)
    assert [r["frame"] for r in moved] == [0, 3, 6] and [r["prompt"] for r in moved] == ["a", "c", "b"]
    assert form.move_row(rows, 0, -1) == rows
    removed = form.remove_row(rows, 0)
    assert [(r["frame"], r["prompt"]) for r in removed] == [(0, "b"), (6, "c")]
    assert form.remove_row(rows[:1], 0) == rows[:1]
    assert form.new_row(rows)["frame"] == 14
    assert form.session_id({"id": "../../etc"}) != "../../etc"  # a forged session id is replaced


def test_refresh_after_a_bad_edit_explains_without_raising(tmp_path):
    from ui import form, handlers
    from ui.context import AppContext

    ctx = AppContext(model=DEMO_CHOICE, store=FrameStore(tmp_path), backend=None)
    data = project().to_json()
    settings = form.settings_of(project())
    rows = data["keyframes"]
    rows[1] = {**rows[1], "frame": 0}
    update = handlers.refresh(ctx, form.Form(settings, rows, {}, [0, 1]))
    assert "Timeline not updated: keyframe 2 frame must be greater than 0, got 0" in update.field_error
    assert 'data-field="kf-1-frame"' in update.field_error  # the field is outlined
    assert update.view is None and update.session is None  # the last good timeline and project stay
    assert update.status is None  # the status line keeps what the last action said
    fixed = handlers.refresh(ctx, form.Form(settings, project().to_json()["keyframes"], {}, [0, 1]))
    assert fixed.field_error == "" and fixed.view is not None  # the message goes once the field is fixed


class InstantBackend:
    """A backend that draws each frame as a flat grey (no model): counts its batches."""

    def __init__(self):
        self.batches = 0

    def encode(self, settings, keyframe):
        return conditioning(keyframe.seed, keyframe.prompt)

    def render(self, settings, frames):
        self.batches += 1
        return [torch.full((settings.height, settings.width, 3), 128, dtype=torch.uint8).numpy() for _ in frames]


def test_interpolate_redraws_the_timeline_after_every_batch(tmp_path):
    from ui import form, handlers
    from ui.context import AppContext

    backend = InstantBackend()
    ctx = AppContext(model=DEMO_CHOICE, store=FrameStore(tmp_path), backend=backend, batch_size=2)
    data = project().to_json()
    settings = form.settings_of(project())
    updates = list(handlers.interpolate(ctx, form.Form(settings, data["keyframes"], {}, [0, 1]), lambda *a, **k: None))
    done = [sum(c in "rk" for c in u.view.payload["states"]) for u in updates]
    assert backend.batches == 4  # 7 frames, 2 a batch
    assert len(updates) >= 4 and done == sorted(done) and done[0] < 7 and done[-1] == 7
    assert "7 frames rendered" in updates[-1].status
