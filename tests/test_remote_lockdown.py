"""The remote is the operator's: a public server never connects where a visitor says.

Without --allow-remote-choice the studio offers no Remote option and refuses any request naming
a remote, crafted or not (every studio event reaches AppContext.for_backend through its Form, so
the refusal is tested there and in the handler); a local listener the test starts sees no connection. With --remote X a
server renders only on X; with the choice allowed, a visitor's remote is taken.
"""

import contextlib
import json
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice


@contextlib.contextmanager
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A local port that records whether anything connected to it: (its URL, its socket)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.setblocking(False)
        yield f"http://127.0.0.1:{server.getsockname()[1]}", server


def connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def context(tmp_path, **fields):
    from ui.context import AppContext

    return AppContext(
        model=ModelChoice("demo", "demo", ""), store=FrameStore(tmp_path / "frames"), backend=None, **fields
    )


def test_a_server_without_the_choice_refuses_a_visitors_remote(tmp_path):
    import gradio as gr

    from ui import handlers
    from ui.form import Form

    public = context(tmp_path)
    with listener() as (url, server):
        with pytest.raises(InputError, match=r"^backend remote is turned off on this server: it renders here only"):
            public.for_backend("remote", url)
        form = Form({"model": "demo"}, [], backend="remote", remote=url)
        with pytest.raises(gr.Error, match="--allow-remote-choice"):
            handlers.change_backend(public, form, lambda *a, **k: None)
        with pytest.raises(InputError, match=r"^backend must be local or remote, got 'ray'"):
            public.for_backend("ray", "")
        assert public.for_backend("local", url) is public
        on_x = context(tmp_path, remote="http://x.example")  # started with --remote X: only X
        with pytest.raises(InputError, match=r"^remote: this server renders only on http://x.example, got 'http"):
            on_x.for_backend("remote", url)
        assert on_x.for_backend("remote", "http://x.example").remote == "http://x.example"
        assert on_x.for_backend("local", "").remote == "http://x.example"
        assert not connected(server), "nothing connected out"
        private = context(tmp_path, remote_choice=True)  # --allow-remote-choice: the visitor's remote is taken
        assert private.for_backend("remote", url).remote == url


def test_the_studio_offers_the_remote_option_only_when_allowed(tmp_path):
    from ui.studio import create_demo

    for allowed in (False, True):
        demo = create_demo(context(tmp_path, remote_choice=allowed))
        shown = {
            b.elem_id: b.visible for b in demo.blocks.values() if getattr(b, "elem_id", None) in ("backend", "remote")
        }
        assert shown == {"backend": allowed, "remote": allowed}


def test_the_flag_and_the_variable_allow_the_choice(monkeypatch):
    from app import parse_args

    assert not parse_args([]).allow_remote_choice
    assert parse_args(["--allow-remote-choice"]).allow_remote_choice
    monkeypatch.setenv("SDVC_ALLOW_REMOTE_CHOICE", "1")
    assert parse_args([]).allow_remote_choice


@pytest.mark.slow
def test_a_server_without_the_choice_sends_no_remote_option(demo_server):
    """The page's config, as any client reads it: the Backend and Remote options are hidden."""
    with urllib.request.urlopen(f"{demo_server.url}/config", timeout=30) as response:
        config = json.load(response)
    shown = {c["props"].get("elem_id"): c["props"].get("visible") for c in config["components"]}
    assert (shown["backend"], shown["remote"]) == (False, False)
    assert demo_server.alive()
