"""Bad input on the command line: a non-zero exit, one line on stderr naming the field, nothing touched.

Most cases call the CLI's `main` in this process (cheap); a few run `python -m pipeline` for
real, to see the exit status and that no traceback reaches the user.
"""

import json

import pytest
from cli import run_cli, tree_snapshot
from conftest import write_project

from pipeline.__main__ import main

GOOD = [
    {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
    {"frame": 7, "prompt": "a city at night", "seed": 2},
    {"frame": 19, "prompt": "a quiet lake", "seed": 3},
]


def keyframes(index: int, **change) -> list:
    """GOOD with one keyframe's fields changed (a value of None removes the field)."""
    result = [dict(k) for k in GOOD]
    result[index].update(change)
    result[index] = {k: v for k, v in result[index].items() if v is not None}
    return result


# name: (project file text, or None for no file; extra CLI arguments; what the message must say)
CASES = {
    "malformed JSON": ('{"model": "demo", "keyframes": [', [], "is not valid JSON: Expecting value at line 1"),
    "missing keyframes": (json.dumps({"model": "demo"}), [], "keyframes must be a non-empty list, got None"),
    "missing prompt": (json.dumps({"keyframes": keyframes(1, prompt=None)}), [], "keyframes[1].prompt is missing"),
    "frame order": (
        json.dumps({"keyframes": keyframes(2, frame=7)}),
        [],
        "keyframes[2].frame must be greater than 7, got 7",
    ),
    "first frame not 0": (json.dumps({"keyframes": keyframes(0, frame=3)}), [], "keyframes[0].frame must be 0"),
    "unknown style": (json.dumps({"keyframes": keyframes(0, style="gothic")}), [], "keyframes[0].style must be"),
    "width 65": (json.dumps({"width": 65, "keyframes": GOOD}), [], "width must be a multiple of 8"),
    "width 100000": (json.dumps({"width": 100000, "keyframes": GOOD}), [], "got 100000"),
    "negative seed": (json.dumps({"keyframes": keyframes(2, seed=-1)}), [], "keyframes[2].seed must be between 0"),
    "unknown field": (json.dumps({"keyframes": keyframes(1, colour="red")}), [], "keyframes[1].colour is not a known"),
    "non-object keyframe": (json.dumps({"keyframes": [*GOOD, 25]}), [], "keyframes[3] must be an object, got 25"),
    "string steps": (json.dumps({"steps": "4", "keyframes": GOOD}), [], "steps must be an integer, got '4'"),
    "no project file": (None, [], "cannot read project file"),
    "project is a folder": ("folder", [], "cannot read project file"),
    "integer too long to read": ('{"width": ' + "1" * 5000 + "}", [], "is not valid JSON"),
    "nesting too deep": ("[" * 100_000, [], "is not valid JSON"),
    "newline in a field name": (
        json.dumps({"keyframes": keyframes(0, **{"bad\nname": 1})}),
        [],
        "keyframes[0].bad",
    ),
    "bad --out suffix": (json.dumps({"keyframes": GOOD}), ["--out", "video.avi"], "--out must end in .mp4 or .gif"),
    "--batch 0": (json.dumps({"keyframes": GOOD}), ["--batch", "0"], "--batch must be between 1 and 64"),
    "--cache is a file": (json.dumps({"keyframes": GOOD}), ["--cache", "{tmp}/project.json"], "--cache: cannot use"),
    "--out under a file": (
        json.dumps({"keyframes": GOOD}),
        ["--out", "{tmp}/project.json/video.mp4"],
        "--out: cannot create the folder",
    ),
    "no --out": (json.dumps({"keyframes": GOOD}), None, "--out"),
}


@pytest.fixture
def cache(tmp_path):
    """A frame store holding one frame and remembered positions: bad input must leave it as it is."""
    folder = tmp_path / "frames"
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / ("ab" + "0" * 62 + ".png")).write_bytes(b"frame")
    (folder / "positions").mkdir()
    (folder / "positions" / "0.json").write_text("{}")
    return folder


def project_file(tmp_path, text: str | None):
    path = tmp_path / "project.json"
    if text == "folder":
        path.mkdir()
    elif text is not None:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_line_naming_the_field_and_touches_nothing(name, tmp_path, cache, capsys):
    text, extra, message = CASES[name]
    path = project_file(tmp_path, text)
    before = tree_snapshot(tmp_path)
    out = ["--out", str(tmp_path / "video.mp4")] if extra is not None and "--out" not in extra else []
    extra = [arg.format(tmp=tmp_path) for arg in extra or []]
    argv = ["render", str(path), *out, "--cache", str(cache), *extra, "--json"]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert tree_snapshot(tmp_path) == before


def test_an_out_path_that_is_a_folder_is_refused_before_rendering(tmp_path, cache, capsys):
    project = write_project(tmp_path / "project.json", GOOD)
    (tmp_path / "video.mp4").mkdir()
    before = tree_snapshot(tmp_path)
    assert main(["render", str(project), "--out", str(tmp_path / "video.mp4"), "--cache", str(cache)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: --out {tmp_path / 'video.mp4'} is a folder; give a file name ending in .mp4 or .gif\n"
    )
    assert tree_snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("command", "name"), [("render", "malformed JSON"), ("status", "negative seed"), ("render", "bad --out suffix")]
)
@pytest.mark.slow
def test_bad_input_in_a_real_process_exits_2_without_a_traceback(command, name, tmp_path, cache):
    text, extra, message = CASES[name]
    path = project_file(tmp_path, text)
    before = tree_snapshot(tmp_path)
    out = ["--out", tmp_path / "video.mp4"] if command == "render" and "--out" not in extra else []
    result = run_cli(command, path, *out, *extra, "--cache", cache, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert tree_snapshot(tmp_path) == before


UNLOADABLE = {
    "/nonexistent/folder": "error: model '/nonexistent/folder' is neither a preset (demo, sd-turbo, sdxl-turbo, "
    "sd-1.5), a model folder nor a hub id",
    "nobody/no-such-model": "error: could not load model 'nobody/no-such-model': it is not in the local cache "
    "and HF_HUB_OFFLINE is set",
}


@pytest.mark.parametrize("model", UNLOADABLE)
def test_a_model_that_cannot_load_is_one_line_and_exit_1(model, tmp_path, capsys):
    project = write_project(tmp_path / "project.json", GOOD, model=model)
    assert main(["render", str(project), "--out", str(tmp_path / "video.mp4"), "--cache", str(tmp_path / "f")]) == 1
    # In this process the first import of diffusers may log first; `python -m pipeline` silences that.
    assert capsys.readouterr().err.splitlines()[-1] == UNLOADABLE[model]
    assert not (tmp_path / "video.mp4").exists()


@pytest.mark.slow
def test_a_model_that_cannot_load_fails_fast_in_a_real_process(tmp_path):
    """Offline, a hub id not in the cache fails at once (no retries), without library chatter."""
    project = write_project(tmp_path / "project.json", GOOD, model="nobody/no-such-model")
    result = run_cli("render", project, "--out", tmp_path / "video.mp4", "--cache", tmp_path / "frames", timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [UNLOADABLE["nobody/no-such-model"]]
