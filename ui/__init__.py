"""SD Video Creator's browser studio and API endpoints: a thin Gradio layer over `pipeline`.

studio.py         create_demo(ctx) -> gr.Blocks: layout, prompt rows, wiring
handlers.py       what the studio's buttons do (each calls pipeline/)
api.py            the published endpoints: /generate, /interpolate, /render_project
form.py           the studio's form values <-> project JSON, the browser session
timeline_view.py  the timeline strip (HTML), segment table and selector
context.py        AppContext: the model, frame store and backend the handlers share
errors.py         InputError / ModelLoadError -> gr.Error, in one place
gpu.py            spaces.GPU on a ZeroGPU Space, a no-op elsewhere
theme.py          theme and CSS given to launch()
"""
