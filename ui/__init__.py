"""SD Video Creator's browser studio and API endpoints: a thin Gradio layer over `pipeline`.

studio.py          create_demo(ctx) -> gr.Blocks: the page, its rows and events, the API
layout.py          where each component of the page sits (and its elem_id)
page.py            Page: the components; reads them into a Form, shows a StudioUpdate
prompt_rows.py     the keyframe rows (a gr.render) and every event that reads them
events.py          how an event runs a handler (Form in, update out); page-level events
handlers.py        what the buttons do to the project: generate, interpolate, video, save, load, model
keyframe_choice.py choosing a keyframe: candidates to pick from, a picture of one's own
update.py          StudioUpdate: what a handler changes on the page
form.py            Form (the page read once) and its rows <-> project JSON, the browser session
timeline_view.py   the timeline's payload, segment table and selector
timeline.py        the timeline component (gr.HTML + ui/assets/) and its events
timeline_edits.py  the timeline's gestures: preview, play, drag, add, remove, paste a schedule
api.py             the published endpoints: /generate, /interpolate, /render_project, ...
context.py         AppContext: the model, frame store and backend the handlers share
errors.py          InputError / ModelLoadError -> gr.Error, in one place
gpu.py             spaces.GPU on a ZeroGPU Space (durations sized to the work), a no-op elsewhere
theme.py           theme and CSS given to launch()

An event: Page.form reads the page into a Form -> a handler calls pipeline/ -> its StudioUpdate
-> Page.apply. Handlers import no component; pipeline/ imports nothing of ui/.
"""
