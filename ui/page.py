"""The studio page's components (built by ui/layout.py), read into a `form.Form` and changed by a
handler's StudioUpdate, each in one place: `Page.form` and `Page.apply`.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from .form import Form, number, renewed
from .update import StudioUpdate


@dataclass(frozen=True)
class CandidatesPanel:
    """The Candidates panel: a row's candidates to click, how many, and buttons for more."""

    panel: gr.Accordion
    title: gr.Markdown
    gallery: gr.Gallery
    count: gr.Slider
    previous: gr.Button
    reroll: gr.Button


@dataclass(frozen=True)
class SoundtrackPanel:
    """The Soundtrack panel (ui/soundtrack.py): the track and its player, where frame 0 plays, a
    summary, and the buttons that place keyframes by it (the timing option is a setting)."""

    track: gr.State  # the project's audio path in the session's folder, or None
    player: gr.Audio  # upload a track; plays it
    start: gr.Number
    info: gr.Markdown
    every: gr.Number  # Keyframes on beats: every this many beats,
    from_frame: gr.Number  # from this frame on
    on_beats: gr.Button
    snap: gr.Button
    fit: gr.Button


@dataclass(frozen=True)
class Page:
    """Every component an event reads, changes or starts from (settings by project field name)."""

    settings: dict[str, gr.components.Component]
    session: gr.BrowserState
    rows_state: gr.State  # the rows to draw: setting it redraws them (ui/prompt_rows.py)
    rows_area: gr.Column  # where they are drawn
    add_button: gr.Button
    generate_button: gr.Button
    candidates: CandidatesPanel
    soundtrack: SoundtrackPanel
    picker: gr.State  # what a click on a candidate picks (update.CandidatesView.picker)
    gallery: gr.Gallery
    field_error: gr.HTML  # under the rows: what a quiet check found wrong, its field outlined
    strip: gr.HTML  # the timeline component (ui/timeline.py)
    schedule: gr.Textbox  # a prompt schedule to paste
    schedule_button: gr.Button
    selector: gr.CheckboxGroup
    table: gr.Dataframe
    interpolate_button: gr.Button
    video_button: gr.Button
    make_gif: gr.Checkbox
    draft: gr.Checkbox  # ui/drafts.py
    final_button: gr.Button
    status: gr.Markdown
    video: gr.Video
    downloads: gr.File
    save_button: gr.Button
    load_button: gr.UploadButton
    project_file: gr.File
    model_status: gr.Markdown
    backend: gr.Radio  # "local" or "remote": where renders run (not part of the project)
    remote: gr.Textbox  # the remote's URL or Space id

    @property
    def inputs(self) -> set[gr.components.Component]:
        """What `form` reads, the prompt rows' fields aside."""
        return {
            *self.settings.values(),
            self.session,
            self.selector,
            self.backend,
            self.remote,
            self.make_gif,
            self.draft,
            self.candidates.count,
            self.picker,
            self.schedule,
            self.soundtrack.track,
            self.soundtrack.start,
            self.soundtrack.every,
            self.soundtrack.from_frame,
        }

    @property
    def outputs(self) -> list[gr.components.Component]:
        """What `apply` may change."""
        return [
            *self.settings.values(),
            self.session,
            self.rows_state,
            self.strip,
            self.table,
            self.selector,
            self.gallery,
            self.field_error,
            self.status,
            self.video,
            self.downloads,
            self.project_file,
            self.model_status,
            self.candidates.panel,
            self.candidates.title,
            self.candidates.gallery,
            self.picker,
            self.soundtrack.track,
            self.soundtrack.player,
            self.soundtrack.start,
            self.soundtrack.info,
        ]

    def form(self, data: dict, rows: list[dict]) -> Form:
        """The page's values (`data`: an event's dict of `inputs`) with the rows read from their fields."""
        return Form(
            settings={name: number(data[c]) for name, c in self.settings.items()},
            rows=rows,
            session=data[self.session],
            selected=data[self.selector] or [],
            backend=data[self.backend],
            remote=data[self.remote],
            make_gif=data[self.make_gif],
            draft=bool(data[self.draft]),
            candidate_count=number(data[self.candidates.count]),
            picker=data[self.picker],
            schedule=data[self.schedule],
            audio=_audio_field(data[self.soundtrack.track], data[self.soundtrack.start]),
            beat_every=number(data[self.soundtrack.every]),
            beat_from=number(data[self.soundtrack.from_frame]),
        )

    def apply(self, update: StudioUpdate) -> dict:
        """Component values for the parts an update changes."""
        out: dict = {}
        if update.view is not None:
            out[self.strip] = update.view.payload
            out[self.table] = update.view.table
            out[self.selector] = gr.CheckboxGroup(choices=update.view.choices, value=update.view.selected)
        if update.settings is not None:
            out.update({c: update.settings[name] for name, c in self.settings.items()})
        pairs = (
            (update.session, self.session),
            (renewed(update.rows) if update.rows is not None else None, self.rows_state),
            (update.gallery, self.gallery),
            (update.status, self.status),
            (update.field_error, self.field_error),
            (update.video, self.video),
            (update.downloads, self.downloads),
            (update.model_status, self.model_status),
        )
        out.update({component: value for value, component in pairs if value is not None})
        if update.project_file is not None:  # hidden until there is a file to download
            out[self.project_file] = gr.File(value=update.project_file, visible=True)
        if update.candidates is not None:
            out[self.candidates.panel] = gr.Accordion(open=True)
            out[self.candidates.title] = update.candidates.title
            out[self.candidates.gallery] = gr.Gallery(
                value=update.candidates.gallery, selected_index=update.candidates.selected
            )
            out[self.picker] = update.candidates.picker
        if update.soundtrack is not None:
            out[self.soundtrack.track] = update.soundtrack.source
            out[self.soundtrack.player] = update.soundtrack.player
            out[self.soundtrack.start] = update.soundtrack.start
            out[self.soundtrack.info] = update.soundtrack.info
        if update.soundtrack_info is not None:
            out[self.soundtrack.info] = update.soundtrack_info
        return out


def _audio_field(source: str | None, start: Any) -> dict | None:
    """The project's audio field from the panel (its start checked by the project's parse)."""
    return {"path": source, "start": number(start)} if source else None
