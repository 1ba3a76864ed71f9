"""The README's "Use it from Python" examples, run as written against a live server.

Each ```python block of that section runs in turn in one namespace (later blocks use what
earlier ones made), with the README's local URL replaced by the test server's.
"""

import contextlib
import io
import re
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

README = Path(__file__).resolve().parents[1] / "README.md"
README_URL = "http://127.0.0.1:7860/"


def python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def test_readme_has_an_example_per_endpoint():
    code = "\n".join(python_blocks("Use it from Python"))
    for endpoint in ("/generate", "/interpolate", "/render_project", "/candidates", "/encode_image"):
        assert f'api_name="{endpoint}"' in code
    assert README_URL in code


@pytest.mark.slow
def test_readme_examples_run_against_the_app(demo_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in python_blocks("Use it from Python"):
            exec(compile(block.replace(README_URL, demo_server.url + "/"), "README.md", "exec"), namespace)
    # What the examples promise in their comments.
    with Image.open(namespace["fox_image"]) as image:
        assert image.size == (64, 64)
    assert namespace["fox"].endswith(".safetensors")
    assert len(namespace["frames"]) == 5
    assert imageio_ffmpeg.count_frames_and_secs(namespace["video"])[0] == 13
    assert namespace["stats"]["frames_total"] == 13
    assert "frames_total" in printed.getvalue()
    assert "['seed 10', 'seed 11', 'seed 12', 'seed 13']" in printed.getvalue()
    with Image.open(namespace["lighthouse_image"]) as picked, Image.open(namespace["candidates"][2]["image"]) as third:
        assert picked.tobytes() == third.tobytes()
    assert len(namespace["travel"]) == 3
