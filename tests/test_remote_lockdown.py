"""The remote is the operator's: a public server never connects where a visitor says.

Without --allow-remote-choice the studio offers no Remote option and refuses any request naming
a remote, crafted or not; a local listener the test starts sees no connection. With --remote X a
server renders only on X; with the choice allowed, a visitor's remote is taken.
"""

import contextlib
import json
import socket
import urllib.request
import uuid
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


def queue_call(url: str, fn_index: int, data: list, session: str) -> dict:
    """One event call as a crafted request would make it: join the queue, read the result's message."""
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None}
    request = urllib.request.Request(
        f"{url}/gradio_api/queue/join", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=30).close()
    with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


@pytest.mark.slow
def test_a_crafted_event_naming_a_remote_is_refused_by_the_server(demo_server):
    with urllib.request.urlopen(f"{demo_server.url}/config", timeout=30) as response:
        config = json.load(response)
    by_id = {c["id"]: c for c in config["components"]}
    ids = {c["props"].get("elem_id"): c["id"] for c in config["components"]}
    assert by_id[ids["backend"]]["props"]["visible"] is False and by_id[ids["remote"]]["props"]["visible"] is False
    # The backend's event lives in the prompt rows' render: open a session as a page does (its load
    # events: the restore, then the render) and take the event from the render's config.
    session = uuid.uuid4().hex
    loads = [d for d in config["dependencies"] if [0, "load"] in d["targets"]]
    rendered = [queue_call(demo_server.url, d["id"], [None] * len(d["inputs"]), session) for d in reversed(loads)]
    configs = [m["output"]["render_config"] for m in rendered if m["output"].get("render_config")]
    by_id |= {c["id"]: c for rc in configs for c in rc["components"]}
    events = [d for rc in configs for d in rc["dependencies"]]
    event = next(d for d in events if [ids["backend"], "input"] in d["targets"])
    with listener() as (url, server):
        values = {ids["backend"]: "remote", ids["remote"]: url}
        data = [values.get(i, by_id[i]["props"].get("value")) for i in event["inputs"]]
        message = queue_call(demo_server.url, event["id"], data, session)
        assert message["success"] is False and "backend remote is turned off" in json.dumps(message)
        assert not connected(server), "nothing connected out"
    assert demo_server.alive()
