"""The studio's candidates and pictures without a server or a model (a fake backend draws noise).

Candidates fill the panel with their seeds, a click picks one into its row (refused once the row
changed), re-roll and going back; a picture is kept by content in the session's own folder, and
a project naming any other file is refused.
"""

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from fake_backend import FakeBackend
from PIL import Image

from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice
from pipeline.uploads import keep_image, session_dir
from ui import form, handlers, keyframe_choice
from ui.context import AppContext
from ui.form import Form

SETTINGS = {
    "model": "demo",
    "width": 64,
    "height": 64,
    "steps": 2,
    "guidance": 0.0,
    "scheduler": "euler",
    "fps": 8,
    "easing": "linear",
    "interpolation": "lerp",
    "spacing": "uniform",
    "path": "straight",
}
ROWS = [
    {"frame": 0, "prompt": "a fox", "negative_prompt": "", "style": "none", "seed": 1},
    {"frame": 3, "prompt": "a kite", "negative_prompt": "", "style": "none", "seed": 2},
    {"frame": 6, "prompt": "a lake", "negative_prompt": "", "style": "none", "seed": 3},
]


def quiet(*args, **kwargs) -> None:
    """A progress callback that shows nothing."""


@pytest.fixture
def ctx(tmp_path) -> AppContext:
    demo = ModelChoice("demo", "demo", "")
    return AppContext(model=demo, store=FrameStore(tmp_path / "frames"), backend=FakeBackend())


@pytest.fixture
def session() -> dict:
    return {"id": uuid.uuid4().hex, "project": form.project_json(SETTINGS, ROWS)}


def png(path: Path, colour=(200, 120, 40), size=(24, 16)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def test_candidates_pick_reroll_and_go_back(ctx, session):
    shown = keyframe_choice.make_candidates(ctx, Form(SETTINGS, ROWS, session, candidate_count=3), 1, quiet).candidates
    assert [caption for _, caption in shown.gallery] == ["seed 2 ✓", "seed 3", "seed 4"]
    assert (shown.picker["row"], shown.selected) == (1, 0)
    assert ctx.backend.rendered == 3

    picked = keyframe_choice.pick_candidate(ctx, Form(SETTINGS, ROWS, session, [0, 1], picker=shown.picker), 2)
    assert [r["seed"] for r in picked.rows] == [1, 4, 3]
    assert picked.session["project"]["keyframes"][1]["seed"] == 4
    assert "candidate 3 picked (seed 4)" in picked.status
    assert picked.candidates.selected == 2 and picked.candidates.gallery[2][1] == "seed 4 ✓"
    assert ctx.backend.rendered == 3  # picking renders nothing

    rerolled = keyframe_choice.more_candidates(
        ctx, Form(SETTINGS, picked.rows, session, picker=shown.picker, candidate_count=3), True, quiet
    )
    assert rerolled.candidates.picker["seeds"] == [5, 6, 7] and "3 rendered, 0 from the store" in rerolled.status
    back = keyframe_choice.more_candidates(
        ctx, Form(SETTINGS, picked.rows, session, picker=rerolled.candidates.picker, candidate_count=3), False, quiet
    )
    assert back.candidates.picker["seeds"] == [2, 3, 4] and "0 rendered, 3 from the store" in back.status
    assert ctx.backend.rendered == 6


def test_a_pick_is_refused_once_the_row_or_the_settings_changed(ctx, session):
    shown = keyframe_choice.make_candidates(ctx, Form(SETTINGS, ROWS, session, candidate_count=2), 1, quiet).candidates
    edited = [ROWS[0], {**ROWS[1], "prompt": "a red kite"}, ROWS[2]]
    with pytest.raises(gr.Error, match="keyframe 2 or the settings changed since these candidates"):
        keyframe_choice.pick_candidate(ctx, Form(SETTINGS, edited, session, [0, 1], picker=shown.picker), 1)
    with pytest.raises(gr.Error, match="changed since these candidates"):
        keyframe_choice.pick_candidate(
            ctx, Form({**SETTINGS, "steps": 3}, ROWS, session, [0, 1], picker=shown.picker), 1
        )
    with pytest.raises(gr.Error, match="no candidate to pick"):
        keyframe_choice.pick_candidate(ctx, Form(SETTINGS, ROWS, session, [0, 1], picker=None), 0)
    with pytest.raises(gr.Error, match=r"count must be at most 8 \(SDVC_MAX_CANDIDATES\), got 9"):
        keyframe_choice.make_candidates(ctx, Form(SETTINGS, ROWS, session, candidate_count=9), 1, quiet)


def test_a_picture_is_kept_by_content_in_the_sessions_own_folder(ctx, session, tmp_path):
    upload = png(tmp_path / "holiday photo.png")
    sha256 = hashlib.sha256(upload.read_bytes()).hexdigest()
    update = keyframe_choice.set_picture(ctx, Form(SETTINGS, ROWS, session, [0, 1]), 1, str(upload))
    assert update.rows[1]["image"] == f"images/{sha256}.png" and update.rows[1]["strength"] == 1.0
    kept = session_dir(session["id"]) / "images" / f"{sha256}.png"
    assert kept.read_bytes() == upload.read_bytes() and update.rows[1]["preview"] == str(kept)
    saved = update.session["project"]["keyframes"][1]
    assert (saved["image"], saved["strength"]) == (f"images/{sha256}.png", 1.0) and "preview" not in saved
    # The session's project comes back on reload, and saves to a bundle (with the picture) that loads again.
    restored = handlers.restore(ctx, update.session)
    assert restored.rows[1]["image"] == f"images/{sha256}.png" and "could not" not in restored.status
    bundle = Path(handlers.save_project(Form(SETTINGS, update.rows, update.session)).project_file)
    assert json.loads(zipfile.ZipFile(bundle).read("project.json"))["keyframes"][1]["image"] == f"files/{sha256}.png"
    opened = handlers.open_project(ctx, str(bundle), update.session)
    assert opened.rows[1]["image"] == f"files/{sha256}.png"
    # Another session cannot name it: its folder is its own (a bundle brings its own copy).
    other = {"id": uuid.uuid4().hex, "project": update.session["project"]}
    assert "could not be restored" in handlers.restore(ctx, other).status
    project_file = tmp_path / "session.json"
    project_file.write_text(json.dumps(update.session["project"]))
    with pytest.raises(gr.Error, match="not found"):
        handlers.open_project(ctx, str(project_file), other)
    # Removing the picture leaves the prompt and seed.
    dropped = keyframe_choice.drop_picture(ctx, Form(SETTINGS, update.rows, update.session, [0, 1]), 1)
    assert "image" not in dropped.rows[1] and "image" not in dropped.session["project"]["keyframes"][1]


def test_the_same_picture_is_kept_once_and_a_jpeg_keeps_its_format(tmp_path):
    folder = tmp_path / "session"
    first = keep_image(png(tmp_path / "a.png"), folder, "picture")
    again = keep_image(png(tmp_path / "b.png"), folder, "picture")
    assert first == again and len(list((folder / "images").iterdir())) == 1
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buffer, format="JPEG")
    (tmp_path / "c.jpeg").write_bytes(buffer.getvalue())
    assert keep_image(tmp_path / "c.jpeg", folder, "picture").source.endswith(".jpg")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a text file", "keyframe 2 picture: not an image in a supported format"),
        (None, "keyframe 2 picture: the image is 4x4; each side must be at least 8 pixels"),
    ],
)
def test_a_bad_picture_is_refused_and_nothing_is_kept(ctx, session, tmp_path, data, message):
    upload = tmp_path / "bad.png"
    if data is None:
        png(upload, size=(4, 4))
    else:
        upload.write_bytes(data)
    with pytest.raises(gr.Error, match=message):
        keyframe_choice.set_picture(ctx, Form(SETTINGS, ROWS, session, [0, 1]), 1, str(upload))
    assert not (session_dir(session["id"]) / "images").exists()


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("/etc/passwd", "absolute path '/etc/passwd'"),
        ("../..", "is outside the project folder"),  # the app's cache folder
        ("images/../../other/images/x.png", "not found"),
    ],
)
def test_a_project_from_the_browser_names_only_the_sessions_own_files(ctx, session, image, message):
    session_dir(session["id"]).mkdir(parents=True, exist_ok=True)
    rows = [ROWS[0], {**ROWS[1], "image": image}, ROWS[2]]
    update = handlers.refresh(ctx, Form(SETTINGS, rows, session, [0, 1]))
    assert "Timeline not updated: keyframe 2 image" in update.field_error and message in update.field_error
    forged = {**session, "project": form.project_json(SETTINGS, rows)}
    assert "could not be restored" in handlers.restore(ctx, forged).status
    with pytest.raises(ValueError, match="not a session id"):
        session_dir("../" + session["id"])
