"""Image keyframes: a picture of the user's own as a keyframe, named by the project file.

The story: a project whose middle keyframe is a picture renders; its keyframe frame redraws
the picture; touching the file re-renders nothing; replacing it re-renders exactly the two
segments that touch it; every bad picture or path gets one clear error naming the field.
"""

import hashlib
import io
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from cli import run_cli
from conftest import write_project
from pictures import png_claiming
from PIL import Image, ImageDraw
from reconstruction import reconstruction_psnr

from pipeline import keyframe_image
from pipeline.conditioning import encode_keyframe, load_conditioning, save_conditioning
from pipeline.errors import InputError
from pipeline.inversion import encode_image_keyframe
from pipeline.keyframe_image import check_image_bytes, fit_image, open_keyframe_image
from pipeline.models import load_model
from pipeline.project import Keyframe, RenderSettings, load_project, parse_project
from pipeline.timeline import plan_timeline


def picture(width: int = 80, height: int = 64, hue: int = 0) -> Image.Image:
    """A photo-like test picture: smooth gradients, a disc and a block."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 / width, y * 255 / height, 128 + 100 * np.sin(x / 6) * np.cos(y / 9)], -1)
    image = Image.fromarray(((pixels + hue) % 256).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 12, 40, 44), fill=(250, 240, 30))
    draw.rectangle((46, 8, 70, 28), fill=(20, 20, 160))
    return image


def save(image: Image.Image, path: Path, format: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=format)
    return path


def image_project(folder: Path, image: str = "pics/middle.png", **extra) -> Path:
    """Keyframes at 0, 4, 8 and 12; the one at 4 is a picture (13 frames, 3 segments), 2 steps."""
    keyframes = [
        {"frame": 0, "prompt": "a red fox in the snow", "seed": 1},
        {"frame": 4, "prompt": "a meadow", "seed": 2, "image": image, **extra},
        {"frame": 8, "prompt": "a city at night", "seed": 3},
        {"frame": 12, "prompt": "a quiet lake", "seed": 4},
    ]
    return write_project(folder / "project.json", keyframes, steps=2)


# --- The project file ---------------------------------------------------------------------


def test_image_field_is_read_hashed_and_written_back(tmp_path):
    path = save(picture(), tmp_path / "pics" / "middle.png")
    project = load_project(image_project(tmp_path, strength=0.6))
    keyframe = project.keyframes[1]
    assert keyframe.image.source == "pics/middle.png"
    assert keyframe.image.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert keyframe.strength == 0.6
    assert keyframe.inputs()["image_sha256"] == keyframe.image.sha256
    written = project.to_json()["keyframes"]
    assert written[1] == {
        "frame": 4,
        "prompt": "a meadow",
        "negative_prompt": "",
        "style": "none",
        "seed": 2,
        "image": "pics/middle.png",
        "strength": 0.6,
    }
    assert parse_project(project.to_json(), tmp_path).keyframes == project.keyframes


def test_keyframes_without_an_image_are_unchanged(tmp_path, three_keyframes):
    project = load_project(write_project(tmp_path / "p.json", three_keyframes))
    assert set(project.keyframes[0].inputs()) == {"prompt", "negative_prompt", "style", "seed"}
    assert project.to_json()["keyframes"][0] == {
        "frame": 0,
        "prompt": "a red fox in the snow",
        "negative_prompt": "",
        "style": "none",
        "seed": 1,
    }


def test_strength_defaults_to_one(tmp_path):
    save(picture(), tmp_path / "pics" / "middle.png")
    assert load_project(image_project(tmp_path)).keyframes[1].strength == 1.0


def test_touching_the_picture_keeps_every_key_and_replacing_it_changes_two_segments(tmp_path):
    path = save(picture(), tmp_path / "pics" / "middle.png")
    project_file = image_project(tmp_path)
    before = [p.key for p in plan_timeline(load_project(project_file))]
    os.utime(path, (path.stat().st_atime + 100, path.stat().st_mtime + 100))
    assert [p.key for p in plan_timeline(load_project(project_file))] == before
    save(picture(hue=60), path)
    after = [p.key for p in plan_timeline(load_project(project_file))]
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [1, 2, 3, 4, 5, 6, 7]  # segments 0 and 1, not keyframes 0 and 8, not segment 2


# --- Bad pictures and paths -----------------------------------------------------------------


def png_bytes(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


BAD_FILES = {
    "text": (b"not a picture at all", "not an image in a supported format"),
    "truncated": (png_bytes(picture())[:300], "damaged or truncated"),
    "too many pixels": (png_claiming(7000, 7000), "7000x7000, over the limit of 40000000 pixels"),
    "bomb": (png_claiming(100_000, 100_000), "over the limit of 40000000 pixels"),
    "16-bit": (png_bytes(Image.new("I;16", (16, 16))), "mode I;16"),
    "float": (png_bytes(Image.new("F", (16, 16)), "TIFF"), "mode F"),
    "tiny": (png_bytes(Image.new("RGB", (4, 4))), "4x4; each side must be at least 8 pixels"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "not an image"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_picture_is_refused_naming_the_field(tmp_path, case):
    data, message = BAD_FILES[case]
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "middle.png").write_bytes(data)
    with pytest.raises(InputError, match=r"^keyframes\[1\]\.image \(pics/middle\.png\): .*" + message):
        load_project(image_project(tmp_path))


def test_a_file_over_the_byte_limit_is_refused_before_reading(tmp_path, monkeypatch):
    save(picture(), tmp_path / "pics" / "middle.png")
    monkeypatch.setattr(keyframe_image, "MAX_IMAGE_BYTES", 100)
    with pytest.raises(InputError, match=r"keyframes\[1\]\.image: 'pics/middle.png' is over 100 bytes"):
        load_project(image_project(tmp_path))


def test_paths_leaving_the_project_folder_are_refused(tmp_path):
    project_dir, outside = tmp_path / "project", save(picture(), tmp_path / "outside.png")
    project_dir.mkdir()
    (project_dir / "escape.png").symlink_to(outside)
    (project_dir / "sub").mkdir()
    cases = {
        "../outside.png": "is outside the project folder",
        "sub/../../outside.png": "is outside the project folder",
        "escape.png": "is outside the project folder",
        str(outside): "must be relative to the project file, got the absolute path",
        "missing.png": "file 'missing.png' not found next to the project file",
        "sub": "'sub' is not a regular file",
        "": "must be a file path relative to the project file",
        42: "must be a file path relative to the project file",
    }
    for source, message in cases.items():
        with pytest.raises(InputError, match=r"^keyframes\[1\]\.image:? .*" + message):
            load_project(image_project(project_dir, image=source))


def test_a_symlink_inside_the_folder_is_followed(tmp_path):
    save(picture(), tmp_path / "pics" / "real.png")
    (tmp_path / "link.png").symlink_to(tmp_path / "pics" / "real.png")
    assert load_project(image_project(tmp_path, image="link.png")).keyframes[1].image.path.name == "real.png"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"strength": 1.5}, r"keyframes\[1\]\.strength must be between 0.0 and 1.0, got 1.5"),
        ({"strength": "high"}, r"keyframes\[1\]\.strength must be a number, got 'high'"),
    ],
)
def test_strength_is_checked(tmp_path, extra, message):
    save(picture(), tmp_path / "pics" / "middle.png")
    with pytest.raises(InputError, match=message):
        load_project(image_project(tmp_path, **extra))


def test_strength_without_an_image_and_an_image_without_a_folder_are_refused():
    keyframe = {"frame": 0, "prompt": "a fox", "strength": 0.5}
    with pytest.raises(InputError, match=r"keyframes\[0\]\.strength is only for a keyframe with an image"):
        parse_project({"keyframes": [keyframe]})
    keyframe = {"frame": 0, "prompt": "a fox", "image": "a.png"}
    with pytest.raises(InputError, match=r"keyframes\[0\]\.image needs the project file's folder"):
        parse_project({"keyframes": [keyframe]})


def test_a_picture_changed_after_loading_is_not_rendered_stale(tmp_path):
    path = save(picture(), tmp_path / "pics" / "middle.png")
    image = load_project(image_project(tmp_path)).keyframes[1].image
    save(picture(hue=60), path)
    with pytest.raises(InputError, match="changed while the project was open"):
        open_keyframe_image(image)


def test_modes_become_rgb_with_transparency_over_white():
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 0))
    rgba.putpixel((1, 1), (255, 0, 0, 255))
    rgba.putpixel((2, 2), (0, 0, 255, 128))
    image = check_image_bytes(png_bytes(rgba), "upload")
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((1, 1)) == (255, 0, 0)
    assert image.getpixel((2, 2)) == (127, 127, 255)
    assert check_image_bytes(png_bytes(Image.new("L", (16, 16), 90)), "grey").getpixel((3, 3)) == (90, 90, 90)
    palette = Image.new("RGB", (16, 16), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert check_image_bytes(png_bytes(palette), "palette").getpixel((3, 3)) == (10, 200, 30)
    assert check_image_bytes(png_bytes(picture(), "JPEG"), "photo").size == (80, 64)


def test_fit_scales_to_cover_and_crops_the_centre():
    columns = np.tile(np.arange(128, dtype=np.uint8) * 2, (64, 1))  # 128 wide, 64 high: value = 2 * x
    fitted = np.asarray(fit_image(Image.fromarray(columns).convert("RGB"), 64, 64))
    assert fitted.shape == (64, 64, 3)
    assert abs(int(fitted[32, 0, 0]) - 64) <= 2 and abs(int(fitted[32, 63, 0]) - 190) <= 2  # columns 32..95 kept


# --- Inversion ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smooth_model_dir(demo_model_dir, tmp_path_factory) -> Path:
    """The demo model made denoiser-like: its UNet's output scaled by 0.1 and its latents scaled
    to about unit variance, as a trained model's are. The demo model itself cannot be the judge:
    its random VAE keeps nothing of a picture (its own round trip is ~8.5 dB, like any seed
    render), and its random UNet makes a sampler the fixed-point inverse does not converge on."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(demo_model_dir)
    with torch.no_grad():
        pipe.unet.conv_out.weight.mul_(0.1)
        pipe.unet.conv_out.bias.mul_(0.1)
    pipe.vae.register_to_config(scaling_factor=5.0)  # the random encoder's latents have std ~0.2
    folder = tmp_path_factory.mktemp("smooth-model")
    pipe.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("scheduler", ["euler", "dpm++2m"])
@pytest.mark.slow
def test_the_keyframe_frame_redraws_the_picture(smooth_model_dir, scheduler):
    """PSNR against the VAE's own round trip of the picture (the best any frame of this model can
    do): inversion reaches ~36 dB with euler and ~33 dB with dpm++2m (first-order inverse), the
    classic DDIM inversion without fixed-point steps ~21 dB, a plain seed render ~13 dB."""
    settings = RenderSettings(str(smooth_model_dir), 64, 64, 4, 0.0, scheduler)
    quality = reconstruction_psnr(settings, picture(), Keyframe(0, "a meadow", seed=2))
    assert quality.frame_vs_vae > 30
    assert quality.seed_vs_vae < 20


@pytest.mark.slow
def test_inversion_is_deterministic_and_strength_blends_toward_the_seed(demo_model_dir, tmp_path):
    model, settings = load_model("demo"), RenderSettings("demo", 64, 64, 2, 0.0, "euler")
    path = save(picture(), tmp_path / "pics" / "middle.png")
    keyframe = load_project(image_project(tmp_path)).keyframes[1]
    first = encode_image_keyframe(model, settings, Image.open(path), keyframe)
    again = encode_image_keyframe(model, settings, Image.open(path), keyframe)
    assert all(torch.equal(first.tensors[name], again.tensors[name]) for name in first.tensors)
    assert first.metadata["image_sha256"] == keyframe.image.sha256 and first.metadata["strength"] == "1.0"
    seed_noise = encode_keyframe(model, settings, replace(keyframe, image=None)).tensors["latents"]
    ignored = encode_image_keyframe(model, settings, Image.open(path), replace(keyframe, strength=0.0))
    half = encode_image_keyframe(model, settings, Image.open(path), replace(keyframe, strength=0.5))
    assert torch.equal(ignored.tensors["latents"], seed_noise)
    assert not torch.equal(first.tensors["latents"], seed_noise)
    assert 0 < (half.tensors["latents"] - seed_noise).norm() < (first.tensors["latents"] - seed_noise).norm()
    loaded = load_conditioning(save_conditioning(first, tmp_path / "meadow.safetensors"))
    assert loaded.keyframe.inputs() == keyframe.inputs()  # a client keys its frames as the project does


@pytest.mark.slow
def test_cli_renders_an_image_keyframe_and_rerenders_its_segments_when_replaced(demo_model_dir, tmp_path):
    path = save(picture(), tmp_path / "pics" / "middle.png")
    project_file, cache, video = image_project(tmp_path), tmp_path / "frames", tmp_path / "video.gif"
    render = ("render", str(project_file), "--out", str(video), "--cache", str(cache), "--json")
    status = ("status", str(project_file), "--cache", str(cache), "--json")
    done = run_cli(*render)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["rendered"] == 13
    os.utime(path, (path.stat().st_atime + 100, path.stat().st_mtime + 100))
    touched = json.loads(run_cli(*status).stdout.splitlines()[-1])
    assert (touched["rendered"], touched["stale"], touched["missing"]) == (13, 0, 0)
    save(picture(hue=60), path)
    replaced = json.loads(run_cli(*status).stdout.splitlines()[-1])
    assert [f["index"] for f in replaced["frames"] if f["state"] == "stale"] == [1, 2, 3, 4, 5, 6, 7]
    assert [s["state"] for s in replaced["segments"]] == ["stale", "stale", "rendered"]
    done = run_cli(*render)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["frames_total"], report["rendered"], report["reused"]) == (13, 7, 6)
    assert Image.open(video).n_frames == 13


@pytest.mark.slow
def test_cli_refuses_an_image_outside_the_project_in_one_line(tmp_path):
    save(picture(), tmp_path / "outside.png")
    (tmp_path / "project").mkdir()
    project_file = image_project(tmp_path / "project", image="../outside.png")
    done = run_cli("render", str(project_file), "--out", str(tmp_path / "v.gif"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "keyframes[1].image: '../outside.png' is outside the project folder" in done.stderr
