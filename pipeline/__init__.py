"""SD Video Creator's engine: keyframes to interpolated frames to video, without gradio.

Import what you need from its modules (`pipeline.project`, `pipeline.renderer`, ...); nothing
heavy happens at import time.
"""

__version__ = "0.1.0"  # as in pyproject.toml; a remote reports it in /server_info
