"""The Colab notebook runs as shipped: its cells, executed with nbclient against this checkout
(REPO pointed at it instead of its remote) on the demo model, up to the launch, which is
replaced by building the app it would launch."""

from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

LAUNCH = "!python app.py --model {MODEL} --share"


def outputs(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_the_colab_notebook_installs_checks_the_gpu_and_builds_the_app(demo_model_dir, tmp_path):
    notebook = nbformat.read(ROOT / "notebooks" / "colab.ipynb", as_version=4)
    install, gpu, launch = (c for c in notebook.cells if c.cell_type == "code")
    assert launch.source.strip().endswith(LAUNCH), "the last cell launches with a share link"
    repo = [line for line in install.source.splitlines() if line.startswith("REPO = ")]
    assert len(repo) == 1 and repo[0].startswith('REPO = "https://'), "one REPO variable, a git URL by default"
    install.source = install.source.replace(repo[0], f"REPO = {str(ROOT)!r}")  # this checkout, cloned
    launch.source = (
        "import app\ndemo, ctx = app.build(app.parse_args(['--model', MODEL]))\nprint('built', ctx.model.active)"
    )
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert f"installed from {ROOT} into {tmp_path / 'sd-video-creator'}" in outputs(install)
    assert (tmp_path / "sd-video-creator" / "app.py").is_file()
    assert "CUDA available: False" in outputs(gpu) and "model: demo" in outputs(gpu)  # no GPU here
    assert "built demo" in outputs(launch)
    assert Path(tmp_path / "sd-video-creator" / "notebooks" / "colab.ipynb").is_file()
