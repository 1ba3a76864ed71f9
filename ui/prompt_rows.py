"""The prompt rows: one row of fields per keyframe, a `gr.render` of `page.rows_state`, and every
event that reads them.

The events are attached inside the render, reading all row fields at once (dict inputs), because
only its events can take its fields as inputs. Row buttons (new seed, up/down, remove, add)
replace the rows, and so redraw them and the timeline; a row can show candidates (in the Candidates panel, where a click
picks one) and take a picture of the user's own (an image keyframe, with a strength).
Elem_ids are kf-<row>-<field>.
"""

import gradio as gr

from pipeline.keyframe_image import IMAGE_FORMATS
from pipeline.limits import limits
from pipeline.styles import STYLES

from . import form, handlers, keyframe_choice
from .context import AppContext
from .events import Events
from .page import Page
from .soundtrack import soundtrack_events
from .timeline import timeline_events

Fields = dict[str, gr.components.Component]  # one row's components by name
TYPED = ("frame", "prompt", "negative_prompt", "seed")  # fields edited when left or on Enter


def prompt_rows(ctx: AppContext, page: Page) -> None:
    """Draw the rows into page.rows_area whenever page.rows_state is set, with their events."""
    with page.rows_area:

        @gr.render(inputs=[page.rows_state])
        def draw(rows: list[dict]):
            if not rows:  # before the page load has restored the session's project
                return
            fields = [_row(i, row, len(rows)) for i, row in enumerate(rows)]
            on = Events(ctx, page, lambda data: _read_rows(rows, fields, data))
            values = {c for f in fields for c in f.values() if not isinstance(c, gr.Button | gr.UploadButton)}
            _attach(on, fields, page.inputs | values)


def _read_rows(rows: list[dict], fields: list[Fields], data: dict) -> list[dict]:
    """The rows as their fields show them (a picture is the row's own, set by an upload; its strength a field)."""
    read = []
    for row, f in zip(rows, fields, strict=True):
        values = {name: form.number(data[f[name]]) for name in form.ROW_FIELDS}
        if row.get("image"):
            values |= {"image": row["image"], "preview": row.get("preview"), "strength": data[f["strength"]]}
        read.append(values)
    return read


def _attach(on: Events, fields: list[Fields], inputs: set) -> None:
    page = on.page

    # 1. Row buttons replace the rows (and so redraw them), the timeline and the session's project.
    # Queued (a state output only redraws from the queue), but never waiting for the GPU.
    def rows_op(op):
        return lambda data: page.apply(handlers.edit_rows(on.ctx, on.form(data), op(on.read_rows(data))))

    quick = {"inputs": inputs, "outputs": page.outputs, "api_visibility": "private", "concurrency_limit": None}
    page.add_button.click(rows_op(lambda rs: [*rs, form.new_row(rs)]), **quick)
    for i, f in enumerate(fields):
        f["dice"].click(rows_op(lambda rs, i=i: form.with_seed(rs, i, form.random_seed())), **quick)
        f["up"].click(rows_op(lambda rs, i=i: form.move_row(rs, i, -1)), **quick)
        f["down"].click(rows_op(lambda rs, i=i: form.move_row(rs, i, 1)), **quick)
        f["remove"].click(rows_op(lambda rs, i=i: form.remove_row(rs, i)), **quick)

    # 2. Any edit redraws the timeline (quietly: no popups while typing). Only the user's own edits
    # (input, not change): a project load sets the settings while it replaces this render, and a
    # change event of the render it replaced would reach a server that no longer knows it.
    typed = [f[name] for f in fields for name in TYPED]
    edits = [c.blur for c in typed] + [c.submit for c in typed] + [f["style"].input for f in fields]
    edits += [f["strength"].release for f in fields if "strength" in f]
    edits += [c.input for name, c in page.settings.items() if name != "model"] + [page.selector.input]
    edits += [page.soundtrack.start.input]
    gr.on(
        edits,
        on.quick(handlers.refresh),
        inputs=inputs,
        outputs=page.outputs,
        api_visibility="private",
        concurrency_limit=None,
        show_progress="hidden",
        trigger_mode="always_last",
    )

    # 3. The actions, one at a time on the GPU; candidates and pictures of a row.
    action = {"inputs": inputs, "outputs": page.outputs, "api_visibility": "private", "show_progress_on": [page.status]}
    gpu = {**action, "concurrency_id": "gpu"}
    page.generate_button.click(on.busy(handlers.generate_keyframes), **gpu)
    page.interpolate_button.click(on.streaming(handlers.interpolate), **gpu)
    page.final_button.click(on.streaming(handlers.render_final), **gpu)
    page.video_button.click(on.busy(handlers.create_video), **gpu)
    page.save_button.click(on.save, **action)
    page.settings["model"].input(on.busy(handlers.change_model), **gpu)  # then the timeline on its keys
    gr.on([page.backend.input, page.remote.submit], on.busy(handlers.change_backend), **gpu)
    page.candidates.reroll.click(on.busy(keyframe_choice.more_candidates, True), **gpu)
    page.candidates.previous.click(on.busy(keyframe_choice.more_candidates, False), **gpu)
    page.candidates.gallery.select(on.pick, **action)
    for i, f in enumerate(fields):
        f["candidates"].click(on.busy(keyframe_choice.make_candidates, i), **gpu)
        f["picture"].upload(on.picture(i, f["picture"]), **{**action, "inputs": inputs | {f["picture"]}})
        if "drop_picture" in f:
            f["drop_picture"].click(on.quick(keyframe_choice.drop_picture, i), **action)

    # 4. The timeline's gestures (drag, add, remove, preview, play) and a pasted schedule; the soundtrack.
    timeline_events(on, inputs)
    soundtrack_events(on, inputs)


def _row(i: int, row: dict, count: int) -> Fields:
    """One keyframe's fields and buttons (and its picture, when it has one)."""
    editable = {"interactive": True}  # rendered fields are outputs of nothing: say they take input
    # Numbers without a precision: a typed 8.5 reaches the project's check, which says integers only
    # (precision=0 would round it without a word).
    with gr.Row(equal_height=True, elem_classes="sdvc-row"):
        fields = {
            "frame": gr.Number(
                row["frame"], label="Frame", scale=0, min_width=110, elem_id=f"kf-{i}-frame", **editable
            ),
            "prompt": gr.Textbox(
                row["prompt"],
                label=f"Prompt {i + 1}",
                placeholder="what this keyframe shows",
                max_length=limits().max_prompt_chars,
                scale=5,
                elem_id=f"kf-{i}-prompt",
                **editable,
            ),
            "negative_prompt": gr.Textbox(
                row["negative_prompt"],
                label="Negative prompt",
                max_length=limits().max_prompt_chars,
                scale=3,
                elem_id=f"kf-{i}-negative",
                **editable,
            ),
            "style": gr.Dropdown(
                list(STYLES),
                value=row["style"],
                label="Style",
                scale=2,
                min_width=120,
                elem_id=f"kf-{i}-style",
                **editable,
            ),
            "seed": gr.Number(row["seed"], label="Seed", scale=2, min_width=150, elem_id=f"kf-{i}-seed", **editable),
        }
        # Text labels: Debian's chromium has no emoji font, so an emoji-only button shows an empty box.
        with gr.Column(scale=0, min_width=150, elem_classes="sdvc-row-tools"):
            with gr.Row(elem_classes="sdvc-tool-row"):
                fields["dice"] = gr.Button("New seed", size="sm", min_width=70, elem_id=f"kf-{i}-dice")
                fields["remove"] = gr.Button(
                    "Remove", size="sm", min_width=70, interactive=count > 1, elem_id=f"kf-{i}-remove"
                )
            with gr.Row(elem_classes="sdvc-tool-row"):
                fields["up"] = gr.Button("Up", size="sm", min_width=70, interactive=i > 0, elem_id=f"kf-{i}-up")
                fields["down"] = gr.Button(
                    "Down", size="sm", min_width=70, interactive=i < count - 1, elem_id=f"kf-{i}-down"
                )
        with gr.Column(scale=0, min_width=128, elem_classes="sdvc-row-tools"):
            fields["candidates"] = gr.Button("🎴 Candidates", size="sm", elem_id=f"kf-{i}-candidates")
            fields["picture"] = gr.UploadButton(
                "🖼️ Picture",
                size="sm",
                type="filepath",
                file_types=[f".{f.lower()}" for f in IMAGE_FORMATS] + [".jpg", ".tif"],
                elem_id=f"kf-{i}-picture",
            )
    if row.get("image"):
        with gr.Row(equal_height=True, elem_classes="sdvc-picture-row"):
            gr.Image(
                row.get("preview"),
                label=f"Picture {i + 1}",
                show_label=False,
                height=72,
                width=96,
                interactive=False,
                buttons=[],
                scale=0,
                min_width=96,
                elem_id=f"kf-{i}-picture-preview",
            )
            fields["strength"] = gr.Slider(
                0.0,
                1.0,
                value=row.get("strength", 1.0),
                step=0.05,
                label=f"Picture strength (keyframe {i + 1}): 1 redraws it, 0 ignores it",
                scale=4,
                elem_id=f"kf-{i}-strength",
                **editable,
            )
            fields["drop_picture"] = gr.Button("Remove picture", size="sm", scale=1, elem_id=f"kf-{i}-drop-picture")
    return fields
