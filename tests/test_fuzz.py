"""Property-based fuzzing: any project or conditioning file either loads or raises InputError, never anything else.

Example counts are modest so the file runs in seconds; a bug hypothesis finds is printed with
the smallest input that shows it.
"""

import contextlib
import copy
import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline.conditioning import encode_keyframe, load_conditioning, save_conditioning
from pipeline.errors import InputError
from pipeline.limits import limits
from pipeline.models import load_model
from pipeline.project import Keyframe, Project, RenderSettings, loads_project, parse_project

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=16,
)
# Values near the valid ones, so mutations get past the first check and reach the later ones.
NEAR_VALID = (
    st.integers(-2, 1500)
    | st.sampled_from([0, 1, 7, 8, 63, 64, 65, 1024, 1032, 2**63, -(2**63), 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["demo", "sd-1.5", "euler", "ddim", "linear", "ease-in-out", "slerp", "none", "watercolor"])
    | st.text(max_size=3)
    | st.sampled_from(["", " ", "x" * 1001, "../../x", "\x00", "\ud800"])
)
VALID_PROJECT = {
    "model": "demo",
    "width": 64,
    "height": 64,
    "steps": 4,
    "guidance": 0.0,
    "scheduler": "euler",
    "fps": 8,
    "easing": "linear",
    "interpolation": "lerp",
    "keyframes": [
        {"frame": 0, "prompt": "a red fox", "negative_prompt": "", "style": "none", "seed": 1},
        {"frame": 7, "prompt": "a city", "negative_prompt": "blur", "style": "watercolor", "seed": 2},
        {"frame": 19, "prompt": "a lake", "seed": 3},
    ],
}


def check_parsed(project: Project) -> None:
    """What every project that parses must satisfy."""
    lim = limits()
    frames = [k.frame for k in project.keyframes]
    assert frames[0] == 0 and frames == sorted(set(frames))
    assert project.frame_count <= lim.max_project_frames
    assert all(b - a - 1 <= lim.max_segment_frames for a, b in itertools.pairwise(frames))
    assert max(project.settings.width, project.settings.height) <= lim.max_side
    assert 1 <= project.settings.steps <= lim.max_steps
    assert math.isfinite(project.settings.guidance)
    assert all(len(k.prompt) <= lim.max_prompt_chars for k in project.keyframes)
    assert parse_project(project.to_json()) == project  # what we write back parses to the same project


def parses_or_input_error(data) -> None:
    try:
        project = parse_project(data)
    except InputError as error:
        assert str(error) and len(str(error)) < 1000
        event("InputError")  # events: shown by --hypothesis-show-statistics
        return
    event("parsed")
    check_parsed(project)


@FUZZ
@given(JSON)
def test_any_json_value_is_a_project_or_an_input_error(value):
    parses_or_input_error(value)


@st.composite
def mutated_projects(draw) -> dict:
    data = copy.deepcopy(VALID_PROJECT)
    for _ in range(draw(st.integers(1, 4))):
        keyframes = data.get("keyframes")
        if (
            isinstance(keyframes, list)
            and keyframes
            and all(isinstance(k, dict) for k in keyframes)
            and draw(st.booleans())
        ):
            target = draw(st.sampled_from(keyframes))
            field = draw(st.sampled_from(["frame", "prompt", "negative_prompt", "style", "seed", "evil"]))
        else:
            target = data
            field = draw(st.sampled_from([*VALID_PROJECT, "evil"]))
        action = draw(st.sampled_from(["delete", "near", "any"]))
        if action == "delete":
            target.pop(field, None)
        else:
            target[field] = draw(NEAR_VALID if action == "near" else JSON)
    return data


@FUZZ
@given(mutated_projects())
def test_a_mutated_project_is_a_project_or_an_input_error(data):
    parses_or_input_error(data)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300) | st.builds(json.dumps, JSON))
def test_any_text_is_a_project_or_an_input_error(text):
    with contextlib.suppress(InputError):
        check_parsed(loads_project(text))


@pytest.fixture(scope="module")
def valid_file(demo_model_dir, tmp_path_factory) -> Path:
    settings_ = RenderSettings("demo", 64, 64, 4, 2.0, "euler")  # guided: negative embeddings too
    conditioning = encode_keyframe(load_model("demo"), settings_, Keyframe(0, "a red fox", "blur", "none", 1))
    return save_conditioning(conditioning, tmp_path_factory.mktemp("fuzz") / "valid.safetensors")


@pytest.fixture(scope="module")
def upload(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "upload.safetensors"


def loads_or_input_error(path, data: bytes) -> bool:
    """True when the file loads, False when it raises InputError; anything else fails the test."""
    path.write_bytes(data)
    try:
        conditioning = load_conditioning(path, "upload")
    except InputError as error:
        assert str(error).startswith("upload")
        event("InputError")
        return False
    event("loaded")
    assert conditioning.settings.model and conditioning.keyframe.seed >= 0  # what a loaded one is used for
    return True


@FUZZ
@given(data=st.binary(max_size=2000), claimed=st.none() | st.integers(0, 2**64 - 1))
def test_random_bytes_are_never_a_conditioning(upload, data, claimed):
    prefix = b"" if claimed is None else claimed.to_bytes(8, "little")
    assert not loads_or_input_error(upload, prefix + data)


@FUZZ
@given(st.data())
def test_a_file_with_flipped_or_cut_bytes_loads_or_raises_input_error(valid_file, upload, data):
    mutated = bytearray(valid_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.none() | st.integers(0, len(mutated)))
    loads_or_input_error(upload, bytes(mutated[:cut]))


DTYPES = st.sampled_from(["F32", "F16", "BF16", "F64", "I8", "I32", "I64", "U8", "BOOL", "F8_E4M3", "EVIL"])


@FUZZ
@given(st.data())
def test_a_file_with_a_mutated_header_loads_or_raises_input_error(valid_file, upload, data):
    valid_bytes = valid_file.read_bytes()
    length = int.from_bytes(valid_bytes[:8], "little")
    header, body = json.loads(valid_bytes[8 : 8 + length]), valid_bytes[8 + length :]
    for _ in range(data.draw(st.integers(1, 4))):
        name = data.draw(st.sampled_from(sorted(header)))
        if name == "__metadata__":
            key = data.draw(st.sampled_from([*sorted(header[name]), "evil"]))
            if data.draw(st.booleans()):
                header[name][key] = data.draw(st.text(max_size=8) | NEAR_VALID.map(str))
            else:
                header[name].pop(key, None)
            continue
        entry = header[name]
        part = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "drop", "rename"]))
        if part == "dtype":
            entry["dtype"] = data.draw(DTYPES)
        elif part == "shape":
            entry["shape"] = data.draw(st.lists(st.integers(0, 80), max_size=5))
        elif part == "data_offsets":
            entry["data_offsets"] = sorted(data.draw(st.lists(st.integers(0, len(body) + 8), min_size=2, max_size=2)))
        elif part == "drop":
            del header[name]
        else:
            header[data.draw(st.sampled_from(["latents", "pooled_prompt_embeds", "evil", ""]))] = header.pop(name)
    raw = json.dumps(header).encode()
    loads_or_input_error(upload, len(raw).to_bytes(8, "little") + raw + body)
