"""Files users upload to the studio: pictures as keyframes, a soundtrack; checked as hostile
files, kept by content per session.

A picture goes through keyframe_image's checks (size in bytes and pixels, format, mode), a
soundtrack through audio_analysis's (size, format, length: it is decoded and analysed), before
anything else happens to it. The studio keeps a browser session's files in a folder of its
own under the app's cache,

    <cache root>/sessions/<session id>/images/<sha256>.<ext>
    <cache root>/sessions/<session id>/audio/<sha256>.<ext>

and its project refers to each one relatively (`"image": "images/<sha256>.png"`,
`"audio": {"path": "audio/<sha256>.mp3"}`), exactly as a project file refers to files next to it. The studio parses the session's project with that
folder as the project folder, so keyframe_image refuses every path that leaves it: a project
coming back from the browser can only name the session's own pictures, never a server file.
"""

import io
import re
from pathlib import Path

from PIL import Image

from .atomic_write import atomic_write
from .audio_analysis import AudioAnalysis, analyze_audio, read_audio_file
from .keyframe_image import KeyframeImage, check_image_bytes, image_sha256, read_image_file
from .presets import cache_root

IMAGES = "images"  # the pictures' folder inside a session folder, as project paths name it
AUDIO = "audio"  # the soundtracks' folder
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")  # uuid4().hex
_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tif"}


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def sessions_root() -> Path:
    return cache_root() / "sessions"


def session_dir(session_id: str) -> Path:
    """A browser session's own folder (created on first use); the id must be a uuid4 hex."""
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return sessions_root() / session_id


def check_uploaded_image(path: Path, field: str) -> tuple[bytes, KeyframeImage]:
    """The uploaded file's bytes and its KeyframeImage, or InputError naming `field`."""
    data = read_image_file(path, field, Path(path).name)
    check_image_bytes(data, field)
    return data, KeyframeImage(source=Path(path).name, sha256=image_sha256(data), path=Path(path))


def keep_image(upload: Path, folder: Path, field: str) -> KeyframeImage:
    """Check an upload and keep its bytes as images/<sha256>.<ext> in `folder` (once per content)."""
    data, picture = check_uploaded_image(upload, field)
    with Image.open(io.BytesIO(data)) as image:  # checked above: a known format
        extension = _EXTENSIONS[image.format]
    source = f"{IMAGES}/{picture.sha256}.{extension}"
    return KeyframeImage(source=source, sha256=picture.sha256, path=_keep(data, folder, source))


def keep_audio(upload: Path, folder: Path, field: str) -> tuple[str, AudioAnalysis]:
    """Check an uploaded soundtrack (decoded and analysed: InputError naming `field`) and keep its bytes
    as audio/<sha256>.<ext> in `folder`; its path as the project names it, and its analysis."""
    import soundfile

    data = read_audio_file(Path(upload), field)
    analysis = analyze_audio(data, field)
    extension = soundfile.info(io.BytesIO(data)).format.lower()  # checked above: WAV, FLAC, OGG or MP3
    source = f"{AUDIO}/{analysis.sha256}.{extension}"
    _keep(data, folder, source)
    return source, analysis


def _keep(data: bytes, folder: Path, source: str) -> Path:
    """`data` at folder/source, written once per content."""
    kept = Path(folder) / source
    if not kept.is_file():
        atomic_write(kept, lambda tmp: tmp.write_bytes(data))
    return kept
