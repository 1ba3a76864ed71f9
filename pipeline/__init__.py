"""SD Video Creator's engine: keyframes to interpolated frames to video, without gradio.

Import what you need from its modules (`pipeline.project`, `pipeline.renderer`, ...); nothing
heavy happens at import time. Data flows down this map: the CLI and service call a planner
(the timeline, a keyframe, candidates, in-betweens), which hands planned frames to the one
render core (renderer.py), which asks a backend for the pixels of those missing from the store.

project.py           the project file: RenderSettings, Keyframe, Project, parsed and checked
bundle.py            a project as one .zip with the files it names; hostile-safe unpacking
limits.py            resource limits (Limits, SDVC_* overrides) every entry checks against
errors.py            InputError / ModelLoadError / RemoteError, show(), check_integer()
presets.py           model presets and scheduler names (plain data)
styles.py            style presets around a keyframe's prompt
keyframe_image.py    a keyframe's own picture: found, checked, hashed, fitted to the frame
audio_analysis.py    a soundtrack's duration, tempo, beats, onsets and peaks (librosa), cached by content
audio_track.py       the project's soundtrack field: its file checked, hashed and analysed, its start
audio_timing.py      the soundtrack on the frames: audio-timed t, the timeline's audio lane
beat_keyframes.py    keyframes on every N-th beat, snapped to beats, or the last at the track's end
conditioning.py      a keyframe encoded into named tensors; blend two; save and load the file
conditioning_fit.py  whether a conditioning fits the model, or the other end of a segment
safetensors_file.py  the hostile-safe .safetensors format and its render-settings metadata
frame_batch.py       a batch of frames' conditioning in one file, for a remote to render
inversion.py         an image keyframe's starting noise, inverted from its picture
interpolation.py     easing curves, lerp and slerp
frame_recipe.py      a frame's recipe (sources, t, interpolation, tags) and its one content key
timeline.py          the project's planner: which keyframes and t make each frame, its state
spacing.py           even spacing: the cumulative distance inverted into t on a grid; t stored by inputs
probe.py             even spacing's probe: a segment's uniform frames, cheaply, measured into its t
smoothness.py        how evenly a segment changes: neighbour SSIM distances, 1 - Gini, mean, max jump
draft.py             drafts: cheap previews under their own keys, shown until finals exist
tiny_decoder.py      the tiny decoder (TAESD-sized AutoencoderTiny) drafts decode with
feature_reuse.py     fast mode: a UNet reusing its deep features between steps (DeepCache-style), per call
timeline_payload.py  the studio timeline's compact redraw (one char a frame a frame's state)
prompt_schedule.py   Deforum / ComfyUI prompt schedules ("0": "a red fox", ...) to keyframes
renderer.py          the render core (pin, find missing, encode, batch, write, evict, report)
backends.py          the Backend protocol; LocalBackend: the model in this process
remote.py            RemoteBackend: the model work on another instance, through its API
server_info.py       a server's /server_info, and the client's check that it renders our pixels
ray_backend.py       RayBackend: the model work on a Ray cluster's workers, one model each
candidates.py        one prompt row from several seeds, for the user to pick
inbetweens.py        in-betweens of two conditioning files (/interpolate)
frame_store.py       rendered frames on disk under their key: pins, eviction, stale positions
atomic_write.py      write to a temporary, rename into place; delete a crash's orphans
video.py             frames to an mp4 (with its soundtrack as AAC) or GIF
export.py            render what is missing, then write the video
models.py            load a model once per process; its pipelines per scheduler
demo_model.py        the tiny random-weight demo model, built here
memory.py            memory options for small GPUs (slicing, tiling, CPU offload)
model_choice.py      the model asked for, or the demo model with a notice; the models offered
service.py           the API endpoints' operations, each checking its input once
uploads.py           uploaded pictures, checked and kept per browser session
workspace.py         a fresh folder per request for the files handed out; old ones pruned
__main__.py          the CLI: python -m pipeline render|status|audio
bench/               the benchmark: python -m pipeline.bench (its __init__.py lists its files)
"""

__version__ = "0.1.0"  # as in pyproject.toml; a remote reports it in /server_info
