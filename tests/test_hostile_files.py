"""Hostile and malformed files: conditioning uploads and project JSON either load or raise InputError naming the problem.

Nothing here may crash, hang, allocate what a header claims, or write a file anywhere.
"""

import json
import os

import pytest
import torch
from cli import run_cli
from conftest import ROOT, write_project
from files import files_under, saved

from pipeline.conditioning import Conditioning, encode_keyframe, load_conditioning
from pipeline.conditioning_fit import check_for_model, check_pair
from pipeline.errors import InputError
from pipeline.models import load_model
from pipeline.project import Keyframe, RenderSettings, load_project

SETTINGS = RenderSettings("demo", 64, 64, 4, 0.0, "euler")


@pytest.fixture(scope="module")
def valid(demo_model_dir) -> Conditioning:
    """A real conditioning from the demo model: the format everything below is a corruption of."""
    return encode_keyframe(load_model("demo"), SETTINGS, Keyframe(0, "a red fox", "", "none", 1))


def with_header(data: bytes, edit) -> bytes:
    """The same file with its JSON header changed by edit(header)."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    edit(header)
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data[8 + length :]


def test_a_valid_file_round_trips(valid, tmp_path):
    path = saved(tmp_path / "c.safetensors", valid.tensors, valid.metadata)
    loaded = load_conditioning(path)
    assert loaded.metadata == valid.metadata
    assert all(torch.equal(loaded.tensors[k], valid.tensors[k]) for k in valid.tensors)
    check_for_model(loaded, load_model("demo"), "c.safetensors")


def _set(name, value):
    return lambda tensors, metadata: tensors.__setitem__(name, value(tensors[name]))


def _meta(key, value):
    def edit(tensors, metadata):
        if value is None:
            metadata.pop(key)
        else:
            metadata[key] = value

    return edit


def _nan(tensors, metadata):
    tensors["latents"] = tensors["latents"].clone()
    tensors["latents"][0, 0, 0, 0] = float("nan")


def _inf(tensors, metadata):
    tensors["prompt_embeds"] = tensors["prompt_embeds"].clone()
    tensors["prompt_embeds"][0, 3, 5] = float("-inf")


TENSOR_AND_METADATA_CASES = {
    "float64": (_set("latents", lambda t: t.double()), "tensor latents is torch.float64, expected torch.float32"),
    "float16": (_set("prompt_embeds", lambda t: t.half()), "tensor prompt_embeds is torch.float16"),
    "int32": (_set("prompt_embeds", lambda t: t.int()), "tensor prompt_embeds is torch.int32"),
    "bool": (_set("latents", lambda t: t > 0), "tensor latents is torch.bool"),
    "nan": (_nan, "tensor latents holds NaN or infinite values"),
    "inf": (_inf, "tensor prompt_embeds holds NaN or infinite values"),
    "batch of 2": (
        _set("latents", lambda t: torch.cat([t, t])),
        "latents has shape (2, 4, 8, 8), expected batch size 1",
    ),
    "empty": (_set("latents", lambda t: t[:, :, :0]), "latents has shape (1, 4, 0, 8)"),
    "3-D latents": (_set("latents", lambda t: t[:, 0]), "prompt_embeds must be 3-D and latents 4-D, got 3-D and 3-D"),
    "2-D embeddings": (_set("prompt_embeds", lambda t: t[:, 0]), "got 2-D and 4-D"),
    "scalar": (_set("latents", lambda t: t.sum()), "latents has shape (), expected batch size 1"),
    "latents off the size": (
        _set("latents", lambda t: torch.zeros(1, 4, 8, 16)),
        "latents of 16x8 do not fit the metadata size 64x64",
    ),
    "extra tensor": (lambda t, m: t.__setitem__("evil", torch.zeros(1)), "holds tensors ['evil', 'latents'"),
    "no latents": (lambda t, m: t.pop("latents"), "holds tensors ['prompt_embeds'], expected ['latents'"),
    "negative without guidance": (
        lambda t, m: t.__setitem__("negative_prompt_embeds", t["prompt_embeds"]),
        "expected ['latents', 'prompt_embeds'] for guidance 0.0",
    ),
    "no format": (_meta("format", None), "not a conditioning file made by SD Video Creator"),
    "other format": (_meta("format", "comfyui/lora"), "not a conditioning file made by SD Video Creator"),
    "width not a number": (_meta("width", "sixty-four"), "metadata field 'width' is missing or not a number"),
    "width of 5000 digits": (_meta("width", "9" * 5000), "metadata field 'width' is missing or not a number"),
    "width off the grid": (_meta("width", "65"), "width must be a multiple of 8 and at least 64, got 65"),
    "width over the limit": (_meta("width", "4096"), "width must be at most 1024 (SDVC_MAX_SIDE), got 4096"),
    "width unlike latents": (_meta("width", "128"), "latents of 8x8 do not fit the metadata size 128x64"),
    "no height": (_meta("height", None), "metadata field 'height' is missing or not a number"),
    "steps 0": (_meta("steps", "0"), "metadata steps must be between 1 and 50, got 0"),
    "steps 10000": (_meta("steps", "10000"), "metadata steps must be between 1 and 50, got 10000"),
    "guidance nan": (_meta("guidance", "nan"), "metadata guidance must be between 0.0 and 30.0, got nan"),
    "guidance inf": (_meta("guidance", "inf"), "metadata guidance must be between 0.0 and 30.0, got inf"),
    "scheduler": (_meta("scheduler", "$(rm -rf /)"), "metadata scheduler must be one of euler, dpm++2m, ddim"),
    "style": (_meta("style", "../../etc/passwd"), "metadata style '../../etc/passwd' is not a known style"),
    "seed negative": (_meta("seed", "-1"), "metadata seed must be between 0 and"),
    "seed too big": (_meta("seed", str(2**64)), "metadata seed must be between 0 and"),
    "no prompt": (_meta("prompt", None), "metadata field 'prompt' is missing"),
    "no negative prompt": (_meta("negative_prompt", None), "metadata field 'negative_prompt' is missing"),
    "prompt too long": (_meta("prompt", "x" * 1001), "must be at most 1000 (SDVC_MAX_PROMPT_CHARS), got 1001"),
    "no model": (_meta("model", None), "metadata field 'model' is missing"),
}


@pytest.mark.parametrize("case", TENSOR_AND_METADATA_CASES)
def test_wrong_tensors_and_metadata_are_named(valid, tmp_path, case):
    edit, message = TENSOR_AND_METADATA_CASES[case]
    tensors, metadata = dict(valid.tensors), dict(valid.metadata)
    edit(tensors, metadata)
    path = saved(tmp_path / "c.safetensors", tensors, metadata)
    with pytest.raises(InputError) as error:
        load_conditioning(path, "upload.safetensors")
    assert str(error.value).startswith("upload.safetensors: ")
    assert message in str(error.value)


def _offsets_out_of_range(header):
    header["latents"]["data_offsets"] = [0, 10**12]


def _dtype_without_data(header):
    header["latents"]["dtype"] = "F64"  # twice the bytes the file holds for it


def _metadata_not_text(header):
    header["__metadata__"]["width"] = 64


def _header_is_a_list(header):
    header.clear()
    header["latents"] = [1, 2, 3]


def raw_cases(good: bytes) -> dict[str, bytes]:
    length = int.from_bytes(good[:8], "little")
    deep = b"[" * 100_000 + b"]" * 100_000
    return {
        "empty": b"",
        "three bytes": b"abc",
        "a png": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "text": b"this is not a safetensors file at all",
        "header claims 1 TB": (2**40).to_bytes(8, "little") + good[8:],
        "header claims 2**64-1": b"\xff" * 8 + good[8:],
        "header one byte past the end": (len(good) - 7).to_bytes(8, "little") + good[8:],
        "header not json": good[:8] + b"{" * length + good[8 + length :],
        "header nested 100000 deep": len(deep).to_bytes(8, "little") + deep,
        "header a list": with_header(good, _header_is_a_list),
        "offsets out of range": with_header(good, _offsets_out_of_range),
        "dtype without its data": with_header(good, _dtype_without_data),
        "metadata not text": with_header(good, _metadata_not_text),
        "truncated": good[: len(good) // 2],
    }


def test_broken_files_are_not_valid_safetensors(valid, tmp_path):
    good = saved(tmp_path / "good.safetensors", valid.tensors, valid.metadata).read_bytes()
    for case, data in raw_cases(good).items():
        path = tmp_path / "c.safetensors"
        path.write_bytes(data)
        with pytest.raises(InputError) as error:
            load_conditioning(path)
        assert str(error.value).startswith("c.safetensors: not a valid .safetensors file ("), case


def test_a_header_claiming_a_terabyte_is_refused_unread(valid, tmp_path):
    good = saved(tmp_path / "good.safetensors", valid.tensors, valid.metadata).read_bytes()
    path = tmp_path / "c.safetensors"
    path.write_bytes((2**40).to_bytes(8, "little") + good[8:])
    with pytest.raises(InputError) as error:
        load_conditioning(path)
    assert f"header of {2**40} bytes in a file of {len(good)}" in str(error.value)


def test_a_file_over_the_upload_limit_is_refused(valid, tmp_path, set_limits):
    set_limits(max_upload_bytes="4K")
    path = saved(tmp_path / "c.safetensors", valid.tensors, valid.metadata)
    with pytest.raises(InputError) as error:
        load_conditioning(path)
    assert str(error.value).startswith("c.safetensors: the file must be at most 4 KiB (SDVC_MAX_UPLOAD_BYTES), got ")


def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    for path in (fifo, tmp_path):
        with pytest.raises(InputError, match="not a regular file"):
            load_conditioning(path)
    with pytest.raises(InputError, match=r"cannot read the file \(No such file or directory\)"):
        load_conditioning(tmp_path / "missing.safetensors")


def test_metadata_of_another_model_or_size_is_refused(valid, tmp_path):
    model = load_model("demo")
    other_model = saved(tmp_path / "a.safetensors", valid.tensors, {**valid.metadata, "model": "sd-1.5"})
    with pytest.raises(InputError, match=r"a\.safetensors was made with model 'sd-1\.5'; this server runs 'demo'"):
        check_for_model(load_conditioning(other_model), model, "a.safetensors")
    wide = {**valid.tensors, "prompt_embeds": torch.zeros(1, 77, 64)}  # another text encoder's width
    with pytest.raises(InputError, match=r"b.safetensors: prompt_embeds width 64 does not fit model 'demo' \(32\)"):
        check_for_model(load_conditioning(saved(tmp_path / "b", wide, valid.metadata)), model, "b.safetensors")
    big = {**valid.tensors, "latents": torch.zeros(1, 4, 16, 16)}  # 128x128, fine on its own
    bigger = load_conditioning(saved(tmp_path / "c", big, {**valid.metadata, "width": "128", "height": "128"}))
    with pytest.raises(InputError, match="the two conditioning files differ in settings"):
        check_pair(load_conditioning(tmp_path / "a.safetensors"), bigger)
    odd = {**valid.tensors, "latents": torch.zeros(1, 4, 4, 4)}  # 64x64 at a scale factor of 16
    with pytest.raises(InputError, match=r"d: latents \(4, 4, 4\) do not fit model 'demo' \(\(4, 8, 8\)\)"):
        check_for_model(load_conditioning(saved(tmp_path / "d", odd, valid.metadata)), model, "d")


def test_a_path_like_name_writes_nothing_anywhere(valid, tmp_path):
    good = saved(tmp_path / "good.safetensors", valid.tensors, valid.metadata).read_bytes()
    before = files_under(tmp_path, ROOT)
    hostile = tmp_path / "upload"
    for case, data in raw_cases(good).items():
        hostile.write_bytes(data)
        with pytest.raises(InputError) as error:
            load_conditioning(hostile, name="../../x")
        assert str(error.value).startswith("../../x: "), case
    loaded = load_conditioning(tmp_path / "good.safetensors", name="../../../etc/passwd")
    assert loaded.metadata["prompt"] == "a red fox"
    assert files_under(tmp_path, ROOT) == before | {hostile}
    assert not (tmp_path.parent.parent / "x").exists()


PROJECT_TEXT_CASES = {
    "empty": (b"", "is not valid JSON: Expecting value at line 1 column 1"),
    "not utf-8": (b"\xff\xfe\xfa{garbage", "is not valid JSON"),
    "python": (b"{'model': 'demo'}", "is not valid JSON: Expecting property name enclosed in double quotes"),
    "nested lists 100000 deep": (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),
    "nested objects 50000 deep": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "is not valid JSON"),
    "a number of 5000 digits": (b"9" * 5000, "is not valid JSON"),
    "null": (b"null", "a project must be a JSON object, got NoneType"),
    "a list": (b"[]", "a project must be a JSON object, got list"),
    "a string": (b'"project"', "a project must be a JSON object, got str"),
    "unknown field": (b'{"evil": 1, "keyframes": []}', "evil is not a known field"),
    "keyframes an object": (b'{"keyframes": {}}', "keyframes must be a non-empty list, got {}"),
    "keyframe a list": (b'{"keyframes": [[]]}', "keyframes[0] must be an object, got []"),
    "width a string": (b'{"width": "64", "keyframes": []}', "width must be an integer, got '64'"),
    "width a float": (b'{"width": 64.0, "keyframes": []}', "width must be an integer, got 64.0"),
    "steps true": (b'{"steps": true, "keyframes": []}', "steps must be an integer, got True"),
    "guidance NaN": (b'{"guidance": NaN, "keyframes": []}', "guidance must be between 0.0 and 30.0, got nan"),
    "guidance Infinity": (b'{"guidance": Infinity, "keyframes": []}', "got inf"),
    "guidance a string": (b'{"guidance": "high", "keyframes": []}', "guidance must be a number, got 'high'"),
    "model a list": (b'{"model": ["demo"], "keyframes": []}', "model must be a preset"),
    "prompt a number": (b'{"keyframes": [{"frame": 0, "prompt": 5}]}', "keyframes[0].prompt must be a string, got 5"),
    "seed negative": (
        b'{"keyframes": [{"frame": 0, "prompt": "a", "seed": -1}]}',
        "keyframes[0].seed must be between 0",
    ),
    "frame a float": (b'{"keyframes": [{"frame": 0.0, "prompt": "a"}]}', "keyframes[0].frame must be an integer"),
    "frames out of order": (
        b'{"keyframes": [{"frame": 0, "prompt": "a"}, {"frame": 0, "prompt": "b"}]}',
        "keyframes[1].frame must be greater than 0, got 0",
    ),
    "style a path": (b'{"keyframes": [{"frame": 0, "prompt": "a", "style": "../x"}]}', "keyframes[0].style must be"),
}


@pytest.mark.parametrize("case", PROJECT_TEXT_CASES)
def test_bad_project_files_are_named(tmp_path, case):
    text, message = PROJECT_TEXT_CASES[case]
    path = tmp_path / "p.json"
    path.write_bytes(text)
    with pytest.raises(InputError) as error:
        load_project(path)
    assert message in str(error.value)
    assert len(str(error.value)) < 500  # a hostile value is shown short


def test_deep_or_huge_values_stay_short_in_messages():
    from pipeline.project import parse_project

    deep: list = []
    for _ in range(100_000):  # deeper than Python could print
        deep = [deep]
    for value in (deep, "x" * 10**6, 10**4000, {str(i): i for i in range(10**5)}):
        with pytest.raises(InputError) as error:
            parse_project({"width": value, "keyframes": []})
        assert str(error.value).startswith("width must be ")
        assert len(str(error.value)) < 200


@pytest.mark.slow
def test_the_cli_answers_bad_files_with_one_line(tmp_path):
    cases = {
        name: PROJECT_TEXT_CASES[name][0] for name in ("empty", "nested lists 100000 deep", "a number of 5000 digits")
    }
    cases["width too big"] = write_project(tmp_path / "w.json", [{"frame": 0, "prompt": "a"}], width=4096).read_bytes()
    for name, text in cases.items():
        path = tmp_path / "p.json"
        path.write_bytes(text)
        result = run_cli("render", path, "--out", tmp_path / "v.mp4", timeout=120)
        assert result.returncode == 2, name
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (name, result.stderr)
    assert not (tmp_path / "v.mp4").exists()
