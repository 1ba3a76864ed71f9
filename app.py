"""SD Video Creator: the browser studio and its API.

    python app.py [--model NAME] [--remote URL_OR_SPACE_ID [--hf-token-env VAR]] [--allow-remote-choice] [--ray [ADDRESS]]
                  [--host H] [--port P] [--share] [--cache DIR]

GRADIO_SERVER_NAME and GRADIO_SERVER_PORT work too (the flags win). The model is loaded once
here, before the UI is built; when it cannot load, the demo model runs with a notice. With
--remote, renders run on that other instance of this app and no model is loaded here: its
model is the app's (--model, if given, must be the same). Visitors cannot choose a remote (the
server would connect where they say) unless --allow-remote-choice or SDVC_ALLOW_REMOTE_CHOICE=1
is given, for a private instance. With --ray, renders run on the workers of a Ray cluster (no
ADDRESS: one started here; `auto`: the running one), which load the model.
"""

import argparse
import os
import sys
from pathlib import Path

import gradio as gr

from pipeline.errors import ClusterError, InputError, RemoteError
from pipeline.limits import limits
from pipeline.ray_backend import LOCAL
from pipeline.remote import token_from_env
from ui.context import AppContext, build_context
from ui.studio import create_demo
from ui.theme import CSS, theme

DEFAULT_MODEL = "sd-turbo"
REMOTE_CHOICE_ENV = "SDVC_ALLOW_REMOTE_CHOICE"
QUEUE_SIZE = 64  # requests waiting at once; beyond it a user is told the queue is full


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="SD Video Creator: prompts to keyframes to video.")
    parser.add_argument(
        "--model", help="preset, diffusers model id or folder (default sd-turbo; with --remote, the remote's)"
    )
    parser.add_argument("--remote", metavar="URL_OR_SPACE_ID", help="render on another instance of this app")
    parser.add_argument(
        "--hf-token-env", metavar="VAR", help="environment variable holding the token for a private --remote Space"
    )
    parser.add_argument(
        "--allow-remote-choice",
        action="store_true",
        default=os.environ.get(REMOTE_CHOICE_ENV, "").strip().lower() in ("1", "true", "yes"),
        help=f"let the studio's visitors render on a remote of their choice (a private instance; also {REMOTE_CHOICE_ENV}=1)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        metavar="ADDRESS",
        help="render on a Ray cluster's workers: auto, HOST:PORT or ray://HOST:PORT; no ADDRESS: a local cluster",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME"), help="address to listen on")
    parser.add_argument("--port", type=int, default=None, help="port (default $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="create a public share link (Colab)")
    parser.add_argument("--cache", type=Path, help="frame store folder (default: the user cache)")
    args = parser.parse_args(argv)
    if args.hf_token_env and not args.remote:
        parser.error("--hf-token-env is for --remote only")
    if args.ray is not None and args.remote:
        parser.error("--ray and --remote: render on one of them, not both")
    return args


def build(args: argparse.Namespace) -> tuple[gr.Blocks, AppContext]:
    """The app and its context; its queue runs model work one request at a time (ui/api.py's "gpu" group)."""
    try:
        token = token_from_env(args.hf_token_env)
        model = args.model or (None if args.remote else DEFAULT_MODEL)
        ctx = build_context(model, args.cache, args.remote, token, remote_choice=args.allow_remote_choice, ray=args.ray)
    except (InputError, RemoteError, ClusterError) as exc:
        sys.exit(f"error: {exc}")
    if ctx.model.fell_back:
        print(f"warning: {ctx.model.notice}", flush=True)
    if ctx.remote:
        print(f"rendering on remote {ctx.remote} (model {ctx.model.active})", flush=True)
    if args.ray is not None:
        print(
            f"rendering on {ctx.backend.where} (model {ctx.model.active}, {ctx.batch_size} frames a batch)", flush=True
        )
    demo = create_demo(ctx)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo, ctx


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    demo, ctx = build(args)
    demo.launch(
        server_name=args.host,
        server_port=args.port or int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        share=args.share,
        allowed_paths=ctx.allowed_paths,
        max_file_size=limits().max_upload_bytes,
        show_error=True,  # gradio's own input checks (a number that is text, a path not uploaded) explain themselves
        theme=theme(),
        css=CSS,
        footer_links=["api", "gradio"],
    )


if __name__ == "__main__":
    main()
