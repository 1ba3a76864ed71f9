"""Project bundles: one `.zip` holding a project's JSON and every file it names, unpacked safely.

A project that names files (a keyframe's picture, ...) travels as a bundle:

    project.json            the project, its file paths rewritten to the members below
    files/<sha256>.<ext>    each file it names, once per content

`project_files` is the one place that knows which fields name files; a new kind of file joins
the bundles by joining that list. Frame keys hash a file's content, never its name, so a bundle
renders the very frames (and reuses the very store entries) of the folder it was made from.

Wherever a project file is accepted, a bundle is too (`opened_project`). A bundle is hostile
input: before anything is written, every member is checked (no path leaving the folder: `..`,
absolute, drive letters, backslashes; no symlink or other special file; no duplicate name; not
encrypted; stored or deflated only; no nested archive), and so are the totals (member count,
uncompressed size, compression ratio: zip bombs). Exactly one member is a `.json`, the project.
The members are then copied, each read no further than its declared size, into a fresh
temporary folder that is removed when the project is done with.
"""

import contextlib
import hashlib
import json
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from .atomic_write import atomic_write
from .errors import InputError, show
from .limits import format_bytes
from .project import Project, load_project

PROJECT_MEMBER = "project.json"
FILES = "files"  # the folder inside a bundle for the files the project names
MAX_MEMBERS = 512  # a project's files: a picture per keyframe, and its audio
MAX_BUNDLE_BYTES = 256 * 2**20  # uncompressed, all members together
MAX_RATIO = 100  # uncompressed / compressed, per member; pictures hardly compress, bombs by thousands
RATIO_FLOOR_BYTES = 2**20  # members smaller than this may compress as well as they like (JSON text)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first bytes: a member, or an empty archive's end
_ARCHIVE_MAGIC = (*ZIP_MAGIC, b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")
_ARCHIVE_SUFFIXES = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 2**20

Where = tuple[str | int, ...]  # a field's path in the project JSON: ("keyframes", 1, "image")


def project_files(project: Project) -> list[tuple[Where, Path]]:
    """(field, file) of every file the project names, in the project's order."""
    files: list[tuple[Where, Path]] = []
    for i, keyframe in enumerate(project.keyframes):
        if keyframe.image is not None and keyframe.image.path is not None:
            files.append((("keyframes", i, "image"), keyframe.image.path))
    if project.audio is not None:
        files.append((("audio", "path"), project.audio.path))
    return files


def portable_json(project: Project) -> tuple[dict[str, Any], dict[str, Path]]:
    """The project's JSON with every file renamed `files/<sha256>.<ext>`, and each such name's file."""
    data = project.to_json()
    members: dict[str, Path] = {}
    for where, path in project_files(project):
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
        name = f"{FILES}/{digest}{suffix}"
        members[name] = path
        _set(data, where, name)
    return data, members


def _set(data: Any, where: Where, value: str) -> None:
    for step in where[:-1]:
        data = data[step]
    data[where[-1]] = value


def write_bundle(project: Project, path: Path) -> Path:
    """Write the project and its files as a bundle at `path` (a .zip)."""
    data, members = portable_json(project)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(PROJECT_MEMBER, json.dumps(data, indent=2))
        for name, file in members.items():
            bundle.write(file, name, compress_type=zipfile.ZIP_STORED)  # pictures and audio are compressed already
    return path


def keep_files(project: Project, folder: Path) -> dict[str, Any]:
    """Copy the project's files into `folder` as files/<sha256>.<ext> (once per content); the
    project's JSON naming them there (parse it with `folder` as its folder)."""
    data, members = portable_json(project)
    for name, file in members.items():
        kept = Path(folder) / name
        if not kept.is_file():
            atomic_write(kept, lambda tmp, file=file: shutil.copyfile(file, tmp))
    return data


def is_bundle(path: Path) -> bool:
    """A bundle by its name (.zip) or by its first bytes (a zip's)."""
    if Path(path).suffix.lower() == ".zip":
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) in ZIP_MAGIC
    except OSError:
        return False  # load_project names the problem


@contextlib.contextmanager
def opened_project(path: Path, name: str | None = None) -> Iterator[Project]:
    """The project of a JSON file or of a bundle (unpacked into a fresh temporary folder, removed
    when the block ends); InputError names the file (`name` replaces its path in messages)."""
    path = Path(path)
    if not is_bundle(path):
        yield load_project(path, name=name)
        return
    name = name or f"bundle {path}"
    with tempfile.TemporaryDirectory(prefix="sdvc-bundle-") as folder:
        project_path = unpack_bundle(path, Path(folder), name)
        yield load_project(project_path, name=f"{name}: {project_path.relative_to(folder)}")


def unpack_bundle(path: Path, folder: Path, name: str) -> Path:
    """Check every member of the bundle, then copy them into the empty `folder`; the project JSON's path."""
    try:
        with zipfile.ZipFile(path) as bundle:
            members = check_members(bundle.infolist(), name)
            for info in members:
                _extract(bundle, info, folder, name)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{name} is not a readable zip file ({exc})") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    return folder / _project_member(members, name).filename


def check_members(members: list[zipfile.ZipInfo], name: str) -> list[zipfile.ZipInfo]:
    """The bundle's file members, each checked, and their totals; InputError for the first problem."""
    if len(members) > MAX_MEMBERS:
        raise InputError(f"{name} has {len(members)} members; a bundle may have at most {MAX_MEMBERS}")
    files, seen = [], set()
    for info in members:
        _check_name(info.filename, name)
        key = info.filename.rstrip("/").casefold()  # one name on a case-insensitive disk
        if key in seen:
            raise InputError(f"{name}: member {show(info.filename)} appears twice")
        seen.add(key)
        if not info.is_dir():
            _check_member(info, name)
            files.append(info)
    total = sum(info.file_size for info in files)
    if total > MAX_BUNDLE_BYTES:
        raise InputError(
            f"{name} unpacks to {format_bytes(total)}; a bundle may unpack to at most {format_bytes(MAX_BUNDLE_BYTES)}"
        )
    _project_member(files, name)
    return files


def _check_name(member: str, name: str) -> None:
    """A member's name must be a plain relative path that stays inside the folder it unpacks into."""
    where = f"{name}: member {show(member)}"
    if not member or "\0" in member:
        raise InputError(f"{where} has an empty or invalid name")
    if "\\" in member:
        raise InputError(f"{where} has a backslash in its name; bundle paths use /")
    if member.startswith("/") or _DRIVE.match(member):
        raise InputError(f"{where} is an absolute path; bundle members must be relative")
    parts = PurePosixPath(member).parts
    if any(part in ("..", ".") for part in member.rstrip("/").split("/")) or not parts:
        raise InputError(f"{where} leaves the bundle's folder (.. or . in its path)")


def _check_member(info: zipfile.ZipInfo, name: str) -> None:
    where = f"{name}: member {show(info.filename)}"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise InputError(f"{where} is a symbolic link; a bundle holds plain files only")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise InputError(f"{where} is not a plain file")
    if info.flag_bits & 0x1:
        raise InputError(f"{where} is encrypted; bundles are not")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"{where} uses compression method {info.compress_type}; only stored or deflated")
    if PurePosixPath(info.filename).suffix.lower() in _ARCHIVE_SUFFIXES:
        raise InputError(f"{where} is an archive inside the bundle; put its files in the bundle itself")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise InputError(
            f"{where} unpacks {info.file_size} bytes from {info.compress_size}, over {MAX_RATIO} times "
            "its size (a zip bomb?)"
        )


def _project_member(files: list[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    found = [info for info in files if PurePosixPath(info.filename).suffix.lower() == ".json"]
    if not found:
        raise InputError(f"{name} holds no project JSON file (expected {PROJECT_MEMBER})")
    if len(found) > 1:
        listed = ", ".join(show(info.filename) for info in found[:3])
        raise InputError(f"{name} holds {len(found)} JSON files ({listed}); a bundle holds one project")
    return found[0]


def _extract(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, name: str) -> None:
    """Copy one checked member into the folder, reading no more than it declares."""
    target = folder.joinpath(*PurePosixPath(info.filename).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with bundle.open(info) as source, open(target, "xb") as out:  # "x": never over a file already there
        while chunk := source.read(_CHUNK):
            if written == 0 and chunk.startswith(_ARCHIVE_MAGIC):
                raise InputError(f"{name}: member {show(info.filename)} is an archive inside the bundle")
            written += len(chunk)
            if written > info.file_size:  # zipfile stops at the declared size; this is the backstop
                raise InputError(f"{name}: member {show(info.filename)} holds more than the size it declares")
            out.write(chunk)
