"""SD Video Creator's engine: keyframes to interpolated frames to video, without gradio.

Import what you need from its modules (`pipeline.project`, `pipeline.renderer`, ...); nothing
heavy happens at import time.
"""
