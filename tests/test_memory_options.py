"""Memory options: defaults per device, part of the model cache key, refused where impossible.

There is no GPU here: the CUDA and MPS defaults are checked as data, and CPU offload only for
its refusal on a CPU; the options themselves are switched on and rendered with on the CPU.
"""

import pytest
import torch
from conftest import write_project
from pixels import assert_same_frame

import pipeline.__main__ as cli
from pipeline.backends import LocalBackend
from pipeline.errors import ModelLoadError
from pipeline.frame_store import FrameStore
from pipeline.memory import ModelOptions
from pipeline.models import load_model
from pipeline.project import load_project
from pipeline.renderer import project_frames, render_project

KEYFRAMES = [{"frame": 0, "prompt": "a fox", "seed": 1}, {"frame": 2, "prompt": "a city", "seed": 2}]


def test_defaults_per_device():
    def resolved(device: str, **given) -> tuple:
        o = ModelOptions(**given).resolve(torch.device(device))
        return o.attention_slicing, o.vae_slicing, o.vae_tiling, o.cpu_offload

    assert resolved("cpu") == (False, False, False, False)
    assert resolved("cuda") == (False, True, True, False)
    assert resolved("mps") == (True, True, False, False)
    assert resolved("cuda", vae_tiling=False, attention_slicing=True) == (True, True, False, False)
    assert resolved("cpu", vae_slicing=True, cpu_offload=True) == (False, True, False, True)


def test_options_are_part_of_the_model_cache_key(demo_model_dir):
    default = load_model("demo")
    assert load_model("demo", ModelOptions()) is default
    assert load_model("demo", ModelOptions(vae_slicing=False)) is default  # the CPU's default, spelled out
    assert not default.pipe.vae.use_slicing and not default.pipe.vae.use_tiling

    saving = load_model("demo", ModelOptions(attention_slicing=True, vae_slicing=True, vae_tiling=True))
    assert saving is not default
    for pipe in (saving.pipe, *saving.pipelines.values()):  # every scheduler's pipeline shares them
        assert pipe.vae.use_slicing and pipe.vae.use_tiling
        assert pipe.unet.attn_processors  # sliced attention processors are in place
    assert any("Sliced" in type(p).__name__ for p in saving.pipe.unet.attn_processors.values())


@pytest.mark.slow
def test_memory_options_render_the_same_frames(demo_model_dir, tmp_path):
    project = load_project(write_project(tmp_path / "p.json", KEYFRAMES, steps=2))
    frames = []
    for name, options in (("plain", None), ("saving", ModelOptions(attention_slicing=True, vae_slicing=True))):
        store = FrameStore(tmp_path / name)
        render_project(project, store, LocalBackend(options))
        frames.append(project_frames(project, store))
    for i, (a, b) in enumerate(zip(*frames, strict=True)):  # another order of the same maths: rounding
        assert_same_frame(a, b, f"frame {i}")


def test_offload_needs_cuda(demo_model_dir, tmp_path, capsys):
    with pytest.raises(ModelLoadError, match="cpu_offload needs a CUDA GPU, but model 'demo' runs on cpu"):
        load_model("demo", ModelOptions(cpu_offload=True))
    project = write_project(tmp_path / "p.json", KEYFRAMES)
    argv = ["render", str(project), "--out", str(tmp_path / "v.mp4"), "--cache", str(tmp_path / "frames")]
    assert cli.main([*argv, "--offload"]) == 1
    assert capsys.readouterr().err.strip() == "error: cpu_offload needs a CUDA GPU, but model 'demo' runs on cpu"


def test_cli_flags_set_the_options():
    def options(*flags: str) -> ModelOptions:
        return cli.model_options(cli._parser().parse_args(["render", "p.json", "--out", "v.mp4", *flags]))

    assert options() == ModelOptions()
    assert options("--vae-slicing", "--no-vae-tiling", "--attention-slicing", "--offload") == ModelOptions(
        attention_slicing=True, vae_slicing=True, vae_tiling=False, cpu_offload=True
    )
