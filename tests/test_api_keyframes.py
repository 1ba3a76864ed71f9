"""Keyframes the user chooses, through gradio_client against a live `python app.py --model demo`.

The story: four candidates for a prompt, captioned with their seeds; /generate with the third
one's seed gives the same picture (the store serves it). A photo-like picture of our own is
encoded with /encode_image and interpolated to a generated keyframe. Bad pictures get clear
errors, and the server goes on.
"""

import hashlib
import io

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from pictures import photo_like, png_claiming
from PIL import Image
from pixels import pixels
from safetensors import safe_open

pytestmark = pytest.mark.slow  # every test here talks to a live app server

PROMPT = {"prompt": "a lighthouse on a cliff", "negative_prompt": "", "style": "none"}
SETTINGS = {"steps": 2, "guidance": 0.0, "width": 64, "height": 64}  # inverting a picture costs 5 model calls a step


@pytest.fixture(scope="module")
def client(demo_server) -> Client:
    return Client(demo_server.url, analytics_enabled=False, verbose=False)


@pytest.fixture(scope="module")
def four(client) -> list[dict]:
    return client.predict(**PROMPT, seed=40, count=4, **SETTINGS, api_name="/candidates")


def test_candidates_are_count_images_captioned_with_their_seeds(four):
    assert [c["caption"] for c in four] == ["seed 40", "seed 41", "seed 42", "seed 43"]
    images = [pixels(c["image"]) for c in four]
    assert all(image.shape == (64, 64, 3) for image in images)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(images[i], images[j]), (i, j)


def test_generate_with_the_third_candidates_seed_gives_the_same_picture(client, four):
    image, conditioning = client.predict(**PROMPT, seed=42, **SETTINGS, api_name="/generate")
    assert np.array_equal(pixels(image), pixels(four[2]["image"]))
    with safe_open(conditioning, framework="pt") as f:
        assert f.metadata()["seed"] == "42"
    # Asking again for the same candidates renders nothing new: the same pictures come back.
    again = client.predict(**PROMPT, seed=41, count=2, **SETTINGS, api_name="/candidates")
    assert [c["caption"] for c in again] == ["seed 41", "seed 42"]
    assert np.array_equal(pixels(again[1]["image"]), pixels(four[2]["image"]))


def test_more_candidates_than_the_limit_are_refused_naming_it(client):
    with pytest.raises(AppError, match=r"count must be at most 8 \(SDVC_MAX_CANDIDATES\), got 9"):
        client.predict(**PROMPT, seed=1, count=9, **SETTINGS, api_name="/candidates")


def test_an_uploaded_picture_is_encoded_and_interpolated_to_a_generated_keyframe(client, tmp_path):
    path = tmp_path / "meadow.png"
    photo_like().save(path)
    meadow_image, meadow = client.predict(
        handle_file(str(path)),
        **{**PROMPT, "prompt": "a meadow under a blue sky"},
        **SETTINGS,
        api_name="/encode_image",
    )
    assert pixels(meadow_image).shape == (64, 64, 3)
    with safe_open(meadow, framework="pt") as f:
        metadata = f.metadata()
    assert metadata["image_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (metadata["strength"], metadata["prompt"]) == ("1.0", "a meadow under a blue sky")
    # Interpolated to a generated keyframe: the in-betweens travel from the picture's keyframe to it,
    # each one further from the start and nearer the end. (Not halfway at t = 0.5: the demo model's
    # random UNet inverts the picture into noise far weaker than a seed's.)
    city_image, city = client.predict(
        **{**PROMPT, "prompt": "a city at night"}, seed=3, **SETTINGS, api_name="/generate"
    )
    frames = client.predict(start=handle_file(meadow), end=handle_file(city), frames=4, api_name="/interpolate")
    assert [f["caption"].split()[0] for f in frames] == ["1/4", "2/4", "3/4", "4/4"]
    images = [pixels(f["image"]).astype(float) for f in frames]
    start, end = pixels(meadow_image).astype(float), pixels(city_image).astype(float)
    from_start = [np.abs(image - start).mean() for image in images]
    to_end = [np.abs(image - end).mean() for image in images]
    assert from_start == sorted(from_start) and from_start[0] > 1, from_start
    assert to_end == sorted(to_end, reverse=True) and to_end[-1] > 1, to_end


def test_bad_pictures_get_clear_errors_and_the_server_goes_on(client, demo_server, tmp_path):
    one_pixel = io.BytesIO()
    Image.new("RGB", (1, 1)).save(one_pixel, format="PNG")
    cases = {
        "notes.txt": (b"this is a text file, not a picture", "image: not an image in a supported format"),
        "fake.png": (b"plain text in a .png", "image: not an image in a supported format"),
        "huge.png": (png_claiming(50_000, 50_000), "over the limit of 40000000 pixels"),
        "dot.png": (one_pixel.getvalue(), "image: the image is 1x1; each side must be at least 8 pixels"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AppError) as caught:
            client.predict(handle_file(str(path)), **PROMPT, **SETTINGS, api_name="/encode_image")
        assert expected in str(caught.value), f"{name}: {caught.value}"
        assert demo_server.alive(), f"the server stopped answering after {name}"
    # Still working, not only answering.
    good = tmp_path / "good.png"
    photo_like(32, 32).save(good)
    image, _ = client.predict(handle_file(str(good)), **PROMPT, **SETTINGS, api_name="/encode_image")
    assert pixels(image).shape == (64, 64, 3)
