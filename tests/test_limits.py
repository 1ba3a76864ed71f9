"""Limits: safe defaults, SDVC_* overrides, and every entry (project, upload, CLI) stating the limit it hit."""

from dataclasses import fields

import pytest
from cli import run_cli
from conftest import ROOT, write_project

from pipeline.errors import InputError
from pipeline.limits import GIB, MIB, Limits, env_var, limits, parse_bytes
from pipeline.project import check_size, load_project, loads_project, parse_project

KEYFRAMES = [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 4, "prompt": "a city", "seed": 2}]


def project(**fields) -> dict:
    return {"model": "demo", "width": 64, "height": 64, "steps": 4, "keyframes": KEYFRAMES, **fields}


def test_defaults_are_safe_for_a_public_space():
    assert Limits.from_env({}) == Limits()
    assert limits() == Limits()  # the test session sets no SDVC_MAX_* variable
    assert (Limits().max_side, Limits().max_steps, Limits().store_bytes) == (1024, 50, 2 * GIB)


def test_environment_overrides_each_limit_and_sizes_take_units():
    env = {"SDVC_MAX_SIDE": "512", "SDVC_MAX_STEPS": " 8 ", "SDVC_STORE_BYTES": "10M", "SDVC_MAX_UPLOAD_BYTES": "2GiB"}
    assert Limits.from_env(env) == Limits(max_side=512, max_steps=8, store_bytes=10 * MIB, max_upload_bytes=2 * GIB)
    assert [parse_bytes(t) for t in ("1", "1k", "3 MB", "2G", "1t")] == [1, 1024, 3 * MIB, 2 * GIB, 2**40]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SDVC_MAX_SIDE", "big", "SDVC_MAX_SIDE must be an integer, got 'big'"),
        ("SDVC_MAX_STEPS", "0", "SDVC_MAX_STEPS must be at least 1, got 0"),
        ("SDVC_MAX_STEPS", "-3", "SDVC_MAX_STEPS must be at least 1, got -3"),
        (
            "SDVC_STORE_BYTES",
            "2 potatoes",
            "SDVC_STORE_BYTES must be a size in bytes (e.g. 512M, 2G), got '2 potatoes'",
        ),
    ],
)
def test_a_bad_variable_is_named_with_its_value(variable, value, message):
    with pytest.raises(InputError) as error:
        Limits.from_env({variable: value})
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"width": 2048}, "width must be at most 1024 (SDVC_MAX_SIDE), got 2048"),
        ({"height": 1032}, "height must be at most 1024 (SDVC_MAX_SIDE), got 1032"),
        ({"steps": 51}, "steps must be between 1 and 50 (SDVC_MAX_STEPS), got 51"),
        (
            {"keyframes": [KEYFRAMES[0], {"frame": 242, "prompt": "late"}]},
            "keyframes[1].frame: in-between frames after frame 0 must be at most 240 (SDVC_MAX_SEGMENT_FRAMES), got 241",
        ),
        (
            {"keyframes": [KEYFRAMES[0], {"frame": 1440, "prompt": "late"}]},
            "keyframes[1].frame must be between 0 and 1439 (a project has at most 1440 frames: "
            "SDVC_MAX_PROJECT_FRAMES), got 1440",
        ),
        (
            {"keyframes": [{"frame": 0, "prompt": "x" * 1001}]},
            "keyframes[0].prompt (in characters) must be at most 1000 (SDVC_MAX_PROMPT_CHARS), got 1001",
        ),
        (
            {"keyframes": [{"frame": 0, "prompt": "ok", "negative_prompt": "n" * 5000}]},
            "keyframes[0].negative_prompt (in characters) must be at most 1000 (SDVC_MAX_PROMPT_CHARS), got 5000",
        ),
    ],
)
def test_the_project_parser_states_each_default_limit(fields, message):
    with pytest.raises(InputError) as error:
        parse_project(project(**fields))
    assert str(error.value) == message


def test_values_at_the_limits_are_accepted():
    last = {"frame": 241, "prompt": "a city"}
    parsed = parse_project(project(width=1024, height=1024, steps=50, keyframes=[KEYFRAMES[0], last]))
    assert (parsed.settings.width, parsed.settings.steps, parsed.frame_count) == (1024, 50, 242)
    assert parse_project(project(keyframes=[{"frame": 0, "prompt": "x" * 1000}])).keyframes[0].prompt == "x" * 1000


def test_lower_limits_from_the_environment_are_enforced(set_limits):
    set_limits(max_side=512, max_steps=8, max_segment_frames=3, max_prompt_chars=10)
    with pytest.raises(InputError, match=r"^width must be at most 512 \(SDVC_MAX_SIDE\), got 520$"):
        check_size(520, 64)
    with pytest.raises(InputError, match=r"steps must be between 1 and 8 \(SDVC_MAX_STEPS\), got 9"):
        parse_project(project(steps=9))
    with pytest.raises(InputError, match=r"must be at most 3 \(SDVC_MAX_SEGMENT_FRAMES\), got 4"):
        parse_project(project(keyframes=[KEYFRAMES[0], {"frame": 5, "prompt": "b"}]))
    with pytest.raises(InputError, match=r"prompt \(in characters\) must be at most 10 \(SDVC_MAX_PROMPT_CHARS\)"):
        parse_project(project(keyframes=[{"frame": 0, "prompt": "a long prompt"}]))
    assert parse_project(project(keyframes=[KEYFRAMES[0], {"frame": 4, "prompt": "b"}])).frame_count == 5


def test_a_project_file_too_big_is_refused_before_reading(tmp_path, set_limits):
    set_limits(max_project_bytes="1K")
    path = write_project(tmp_path / "p.json", KEYFRAMES)
    path.write_text(path.read_text() + " " * 2000)
    with pytest.raises(InputError) as error:
        load_project(path)
    assert str(error.value).startswith(f"project file {path} must be at most 1 KiB (SDVC_MAX_PROJECT_BYTES), got ")
    with pytest.raises(InputError, match=r"^the project must be at most 1 KiB \(SDVC_MAX_PROJECT_BYTES\)"):
        loads_project(" " * 2000)


@pytest.mark.slow
def test_the_cli_states_the_limit_in_one_line(tmp_path):
    path = write_project(tmp_path / "p.json", KEYFRAMES, steps=4)
    result = run_cli("render", str(path), "--out", str(tmp_path / "v.mp4"), env={"SDVC_MAX_STEPS": "2"})
    assert result.returncode == 2
    assert result.stderr == "error: steps must be between 1 and 2 (SDVC_MAX_STEPS), got 4\n"
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.slow
def test_the_cli_names_a_bad_limit_variable(tmp_path):
    path = write_project(tmp_path / "p.json", KEYFRAMES)
    result = run_cli("status", str(path), env={"SDVC_MAX_SIDE": "huge"})
    assert (result.returncode, result.stderr) == (2, "error: SDVC_MAX_SIDE must be an integer, got 'huge'\n")


@pytest.mark.slow
def test_the_cli_refuses_a_bad_store_limit(tmp_path):
    path = write_project(tmp_path / "p.json", KEYFRAMES)
    result = run_cli("render", str(path), "--out", str(tmp_path / "v.mp4"), "--store-limit", "lots", "--json")
    assert result.returncode == 2
    assert "argument --store-limit: not a size: 'lots'" in result.stderr
    assert "Traceback" not in result.stderr


def test_limits_are_read_once(set_limits, monkeypatch):
    set_limits(max_steps=7)
    assert limits().max_steps == 7
    monkeypatch.setenv("SDVC_MAX_STEPS", "9")
    assert limits().max_steps == 7  # a process keeps the limits it started with


def test_the_readme_lists_every_limit_with_its_default():
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip(" `") for c in line.split("|")[1:-1]]
        if cells and cells[0].startswith("SDVC_"):
            rows[cells[0]] = cells[1]
    for field in fields(Limits):
        default = getattr(Limits(), field.name)
        text = rows[env_var(field.name)]
        assert (parse_bytes(text) if field.name.endswith("_bytes") else int(text)) == default, field.name
