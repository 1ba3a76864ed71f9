"""The app as app.py builds it (in this process, no server): its entries follow limits(), its queue
runs model work one request at a time, its temporary files expire, and users render only with the
models the server offers.
"""

import gradio as gr
import pytest

from pipeline.errors import InputError
from pipeline.limits import env_var, limits
from pipeline.model_choice import check_offered
from pipeline.workspace import MAX_AGE_S

MODEL_ENDPOINTS = {"generate", "interpolate", "render_project"}


LOWERED = {
    "max_side": 512,
    "max_steps": 8,
    "max_segment_frames": 30,
    "max_prompt_chars": 300,
    "max_project_frames": 100,
}


@pytest.fixture(scope="module")
def built(demo_model_dir, tmp_path_factory):
    """(demo, ctx) from app.build on the demo model, built under lowered limits (SDVC_* variables)."""
    import app

    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOWERED.items():
            patch.setenv(env_var(name), str(value))
        limits.cache_clear()
        yield app.build(app.parse_args(["--model", "demo", "--cache", str(tmp_path_factory.mktemp("frames"))]))
    limits.cache_clear()


def component(demo, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def api_function(demo, api_name: str):
    return next(fn for fn in demo.fns.values() if fn.api_name == api_name)


def test_the_studio_and_the_api_state_the_limits(built):
    demo, _ = built
    assert (component(demo, "width").maximum, component(demo, "height").maximum) == (512, 512)
    assert component(demo, "steps").info == "1 to 8"  # a number box: a value past it is refused by name
    labels = {getattr(b, "label", None) for b in demo.blocks.values()}  # the API's parameters
    assert "width: pixels, a multiple of 8 (64-512)" in labels
    assert "steps: denoising steps (1-8)" in labels
    assert "frames: how many in-betweens (1-30)" in labels
    assert "steps (1-8)" in api_function(demo, "generate").api_description
    assert "each at most\n300 characters" in api_function(demo, "generate").api_description
    assert "frames (1-30)" in api_function(demo, "interpolate").api_description
    assert "at most\n100 frames" in api_function(demo, "render_project").api_description


def test_the_queue_runs_model_work_one_request_at_a_time(built):
    import app

    demo, _ = built
    queue = demo._queue
    assert queue.max_size == app.QUEUE_SIZE  # beyond it a user is told the queue is full
    on_gpu = [fn for fn in demo.fns.values() if fn.concurrency_id == "gpu"]
    assert {fn.api_name for fn in on_gpu} >= MODEL_ENDPOINTS
    for fn in on_gpu:  # the studio's model picker too
        queue.create_event_queue_for_fn(fn)
    assert queue.event_queue_per_concurrency_id["gpu"].concurrency_limit == 1


def test_temporary_files_expire_with_the_request_folders(built):
    demo, _ = built
    assert demo.delete_cache == (3600, MAX_AGE_S)


def test_users_render_only_with_the_models_the_server_offers(built, tmp_path):
    from ui import form, handlers

    _, ctx = built
    assert ctx.offered_models == ("demo", "sd-turbo", "sdxl-turbo", "sd-1.5")
    for name in ("../../..", str(tmp_path), "someone/any-model"):
        with pytest.raises(InputError, match=r"is not available on this server, which renders with 'demo' or"):
            check_offered(name, ctx.offered_models)
    # The studio: the model picker, and a project (an uploaded one, say) naming a folder.
    with pytest.raises(gr.Error, match=r"model '/etc' is not available on this server"):
        handlers.change_model(ctx, form.Form({"model": "/etc"}, []), lambda *a, **k: None)
    settings = {**form.starter_project("demo"), "model": str(tmp_path)}
    rows = settings.pop("keyframes")
    with pytest.raises(gr.Error, match=rf"model '{tmp_path}' is not available on this server"):
        handlers.generate_keyframes(ctx, form.Form(settings, rows, {}, []), lambda *a, **k: None)
    assert list(ctx.store.root.glob("*/*.png")) == []  # nothing rendered
