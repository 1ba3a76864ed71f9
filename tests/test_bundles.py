"""Project bundles: a project with a picture travels as one .zip and renders the same frames anywhere.

The story: a 3-keyframe project whose middle keyframe is a picture is rendered from its folder;
its bundle renders with 0 frames new on that store, and the same keys on a fresh one (CLI and
studio Load). Twenty hostile zips, made here, are each refused with their message, writing
nothing outside a temporary folder that is gone afterwards; the server stays up.
"""

import io
import json
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from cli import main_json
from conftest import write_project
from pictures import photo_like

from pipeline.bundle import MAX_MEMBERS, PROJECT_MEMBER, opened_project, project_files, write_bundle
from pipeline.errors import InputError
from pipeline.frame_store import FrameStore
from pipeline.model_choice import ModelChoice
from pipeline.project import load_project

PROJECT = {"model": "demo", "width": 64, "height": 64, "steps": 2, "keyframes": [{"frame": 0, "prompt": "a fox"}]}
PNG = io.BytesIO()
photo_like(16, 16).save(PNG, format="PNG")


def picture_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    photo_like().save(folder / "sun.png")
    keyframes = [
        {"frame": 0, "prompt": "a red fox", "seed": 1},
        {"frame": 2, "prompt": "a sunny meadow", "image": "sun.png", "strength": 0.8},
        {"frame": 4, "prompt": "a lake", "seed": 3},
    ]
    return write_project(folder / "story.json", keyframes, steps=2)


def keys(capsys, project: Path, cache: Path) -> list[str]:
    return [f["key"] for f in main_json(capsys, "status", project, "--cache", cache)["frames"]]


@pytest.mark.slow
def test_a_bundle_renders_the_frames_of_its_folder_and_reuses_them(demo_model_dir, tmp_path, capsys):
    source = picture_project(tmp_path / "made")
    bundle = write_bundle(load_project(source), tmp_path / "story.zip")
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        data = json.loads(z.read(PROJECT_MEMBER))
    assert names[0] == PROJECT_MEMBER and len(names) == 2 and data["keyframes"][1]["image"] == names[1]
    first, other = tmp_path / "cache-1", tmp_path / "cache-2"
    done = main_json(capsys, "render", source, "--out", tmp_path / "a.mp4", "--cache", first)
    assert (done["frames_total"], done["rendered"]) == (5, 5)
    again = main_json(capsys, "render", bundle, "--out", tmp_path / "b.mp4", "--cache", first)
    assert (again["rendered"], again["reused"]) == (0, 5)
    assert keys(capsys, bundle, other) == keys(capsys, source, first)
    moved = main_json(capsys, "render", bundle, "--out", tmp_path / "c.mp4", "--cache", other)
    assert moved["rendered"] == 5
    assert not list(Path(tempfile.gettempdir()).glob("sdvc-bundle-*")), "the unpacked folder is removed"


def test_the_studio_saves_a_bundle_and_loads_it_in_a_fresh_session(tmp_path):
    from ui import handlers
    from ui.context import AppContext
    from ui.form import SETTING_FIELDS, Form, settings_of

    project = load_project(picture_project(tmp_path / "made"))
    data = project.to_json()
    source = tmp_path / "bundle.zip"
    write_bundle(project, source)
    ctx = AppContext(model=ModelChoice("demo", "demo", ""), store=FrameStore(tmp_path / "frames"), backend=None)
    update = handlers.open_project(ctx, str(source), {"id": "0" * 32})
    assert update.status.startswith("Loaded bundle.zip: 3 keyframes, 5 frames")
    assert update.rows[1]["image"].startswith("files/") and Path(update.rows[1]["preview"]).is_file()
    form = Form({k: update.settings[k] for k in SETTING_FIELDS}, update.rows, update.session)
    assert form.project().keyframes[1].image.sha256 == project.keyframes[1].image.sha256
    saved = Path(handlers.save_project(Form(settings_of(project), update.rows, update.session)).project_file)
    assert saved.suffix == ".zip" and len(zipfile.ZipFile(saved).namelist()) == 2
    plain = {**data, "keyframes": [data["keyframes"][0]]}
    json_file = Path(handlers.save_project(Form(settings_of(project), plain["keyframes"])).project_file)
    assert json_file.suffix == ".json" and not project_files(load_project(json_file))


def zip_of(*members: tuple, comment: str = "") -> bytes:
    """A zip whose members are (name, bytes[, mode bits]) as a hostile client would write them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names it is asked to write
        for name, data, *mode in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode:
                info.external_attr = mode[0] << 16
            z.writestr(info, data)
    return buffer.getvalue()


def with_flag(data: bytes, flag: int) -> bytes:
    """The zip with general purpose flag bits set on every header (an "encrypted" member)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            out[at + offset] |= flag
            start = at + 4
    return bytes(out)


def lying_size(data: bytes) -> bytes:
    """The zip with its one member's declared size made smaller than its content."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = out.find(signature)
        out[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    return bytes(out)


GOOD = json.dumps(PROJECT).encode()
HOSTILE = {
    "parent": (zip_of(("project.json", GOOD), ("../evil.png", PNG.getvalue())), "leaves the bundle's folder"),
    "deep-parent": (zip_of(("project.json", GOOD), ("a/../../evil.png", b"x")), "leaves the bundle's folder"),
    "absolute": (zip_of(("project.json", GOOD), ("/tmp/evil.png", b"x")), "is an absolute path"),
    "drive": (zip_of(("project.json", GOOD), ("C:evil.png", b"x")), "is an absolute path"),
    "drive-slash": (zip_of(("project.json", GOOD), ("c:/windows/evil.png", b"x")), "is an absolute path"),
    "backslash": (zip_of(("project.json", GOOD), ("..\\evil.png", b"x")), "has a backslash"),
    "dot": (zip_of(("project.json", GOOD), ("./files/./a.png", b"x")), "leaves the bundle's folder"),
    "symlink": (zip_of(("project.json", GOOD), ("link.png", b"/etc/passwd", stat.S_IFLNK | 0o777)), "symbolic link"),
    "device": (zip_of(("project.json", GOOD), ("fifo", b"", stat.S_IFIFO | 0o644)), "is not a plain file"),
    "duplicate": (zip_of(("project.json", GOOD), ("a.png", b"1"), ("a.png", b"2")), "appears twice"),
    "duplicate-case": (zip_of(("project.json", GOOD), ("A.png", b"1"), ("a.png", b"2")), "appears twice"),
    "no-json": (zip_of(("files/a.png", PNG.getvalue())), "holds no project JSON"),
    "two-json": (zip_of(("project.json", GOOD), ("other.json", GOOD)), "holds 2 JSON files"),
    "empty": (zip_of(), "holds no project JSON"),
    "ratio-bomb": (zip_of(("project.json", GOOD), ("bomb.png", bytes(20 * 2**20))), "over 100 times"),
    "members": (zip_of(*((f"f{i}.png", b"x") for i in range(MAX_MEMBERS + 1))), "at most 512"),
    "nested-zip": (zip_of(("project.json", GOOD), ("inner.zip", zip_of(("a", b"x")))), "an archive inside"),
    "nested-magic": (zip_of(("project.json", GOOD), ("inner.png", zip_of(("a", b"x")))), "an archive inside"),
    "encrypted": (with_flag(zip_of(("project.json", GOOD)), 0x1), "is encrypted"),
    "lying-size": (lying_size(zip_of(("project.json", GOOD))), "not a readable zip"),
    "not-a-zip": (b"PK\x03\x04 this is no zip", "not a readable zip"),
    "bad-project": (zip_of(("project.json", b'{"model": "demo"}')), "keyframes must be a non-empty list"),
}


def test_twenty_hostile_bundles_are_refused_and_nothing_is_written_outside(tmp_path, set_limits):
    assert len(HOSTILE) >= 20
    temp = Path(tempfile.gettempdir())
    for label, (data, message) in HOSTILE.items():
        path = tmp_path / "in" / f"{label}.zip"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        with pytest.raises(InputError, match=message) as refused, opened_project(path, name=f"bundle {label}"):
            pass
        assert f"bundle {label}" in str(refused.value) or label == "bad-project", str(refused.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["in", *(f"{label}.zip" for label in HOSTILE)])
    assert not (temp / "evil.png").exists() and not list(temp.glob("sdvc-bundle-*"))


def test_a_total_size_over_the_limit_is_refused_before_unpacking(tmp_path, monkeypatch):
    from pipeline import bundle

    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", 1000)
    path = tmp_path / "big.zip"
    path.write_bytes(zip_of(("project.json", GOOD), ("a.png", bytes(600)), ("b.png", bytes(600))))
    message = r"unpacks to 1.2\d* KiB; a bundle may unpack to at most 1000 bytes"
    with pytest.raises(InputError, match=message), opened_project(path):
        pass


@pytest.mark.slow
def test_the_server_refuses_hostile_bundles_and_stays_up(demo_server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(demo_server.url, analytics_enabled=False, verbose=False)
    for label in ("parent", "symlink", "ratio-bomb", "two-json", "nested-zip"):
        data, message = HOSTILE[label]
        path = tmp_path / f"{label}.zip"
        path.write_bytes(data)
        with pytest.raises(Exception, match=message):
            client.predict(project=handle_file(str(path)), api_name="/render_project")
        assert demo_server.alive(), f"the server stopped answering after {label}"
