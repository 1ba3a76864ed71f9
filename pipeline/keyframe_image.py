"""A keyframe's own picture: find the file, check it, hash its content, fit it to the frame.

A project keyframe may name an image file (`"image"`, a path relative to the project file).
Every file is treated as hostile: the path must stay inside the project folder (no absolute
paths, no `..` or symlink that leaves it), the file must be a regular file of at most
`MAX_IMAGE_BYTES` holding a PNG, JPEG, WebP, GIF, BMP or TIFF picture of at most
`MAX_IMAGE_PIXELS` pixels. Modes are made RGB: grey, palette and CMYK convert; transparency
is laid over white; 16-bit and float pictures are refused (their conversion would clip).
Animated files give their first frame; EXIF orientation is applied.

What frame keys hash is the sha256 of the file's bytes, so replacing the file re-renders its
segments and touching it does not. Torch-free: reading a project never imports the model.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError

MAX_IMAGE_BYTES = 50 * 2**20  # a 40 MP JPEG is ~20 MB
MAX_IMAGE_PIXELS = 40_000_000  # below PIL's own bomb check (89 MP), so ours speaks first
MIN_IMAGE_SIDE = 8  # pixels; anything smaller holds no picture worth inverting
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # fewer decoders, less attack surface
_CONVERTIBLE_MODES = {"1", "L", "P", "RGB", "CMYK", "YCbCr", "LAB", "HSV"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}


@dataclass(frozen=True)
class KeyframeImage:
    """A keyframe's picture: what frame keys hash (sha256) and where its bytes are."""

    source: str  # the path as the project file writes it (relative to the project file)
    sha256: str  # hex digest of the file's bytes
    path: Path | None = None  # the checked file; None when only the hash is known (a conditioning file)


def image_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve_image_path(folder: Path, source: str, field: str) -> Path:
    """The file a project's relative image path names, refusing paths that leave the folder."""
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"{field} must be a file path relative to the project file, got {source!r}")
    if Path(source).is_absolute():
        raise InputError(f"{field} must be relative to the project file, got the absolute path {source!r}")
    root = Path(folder).resolve()
    try:
        path = (root / source).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"{field}: file {source!r} not found next to the project file") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise InputError(f"{field}: cannot open {source!r} ({exc})") from None
    if not path.is_relative_to(root):
        raise InputError(f"{field}: {source!r} is outside the project folder {root}")
    if not path.is_file():
        raise InputError(f"{field}: {source!r} is not a regular file")
    return path


def read_bounded(path: Path, most: int, name: str, kind: str) -> bytes:
    """A project file's bytes (a picture, a soundtrack), refusing one over `most` bytes before reading
    it all; `name` opens each message, `kind` says whose limit it is."""
    try:
        with open(path, "rb") as f:
            data = f.read(most + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
    if len(data) > most:
        raise InputError(f"{name} is over {most} bytes, the limit for {kind}")
    return data


def read_image_file(path: Path, field: str, source: str) -> bytes:
    return read_bounded(path, MAX_IMAGE_BYTES, f"{field}: {source!r}", "an image")


def check_image_bytes(data: bytes, name: str) -> Image.Image:
    """Decode a picture file's bytes into a checked RGB image, or raise InputError naming `name`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _decode(lambda: Image.open(io.BytesIO(data), formats=IMAGE_FORMATS), name)
        _check_size(image.width, image.height, name)
        _decode(lambda: (image.seek(0), image.load()), name)
    if image.mode not in _CONVERTIBLE_MODES | _ALPHA_MODES:
        raise InputError(
            f"{name}: images of mode {image.mode} (over 8 bits a channel) are not supported; save it as 8-bit RGB"
        )
    return _to_rgb(ImageOps.exif_transpose(image))


def _decode(step, name: str):
    """Run one PIL decoding step, turning its many exceptions into one InputError."""
    try:
        return step()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{name}: the image is over the limit of {MAX_IMAGE_PIXELS} pixels") from None
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image in a supported format ({', '.join(IMAGE_FORMATS)})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"{name}: the image is damaged or truncated ({exc})") from None


def _check_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise InputError(f"{name}: the image is {width}x{height}, over the limit of {MAX_IMAGE_PIXELS} pixels")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise InputError(f"{name}: the image is {width}x{height}; each side must be at least {MIN_IMAGE_SIDE} pixels")


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB; transparent parts become white (a cut-out subject on a plain background)."""
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def load_keyframe_image(folder: Path, source: str, field: str) -> KeyframeImage:
    """Resolve, read, hash and check a project keyframe's image file."""
    path = resolve_image_path(folder, source, field)
    data = read_image_file(path, field, source)
    check_image_bytes(data, f"{field} ({source})")
    return KeyframeImage(source=source, sha256=image_sha256(data), path=path)


def open_keyframe_image(image: KeyframeImage) -> Image.Image:
    """The picture itself, read again; it must still be the content the frame keys hash."""
    if image.path is None:
        raise InputError(f"image {image.source or image.sha256[:12]!r} has no file to read")
    data = read_image_file(image.path, "image", image.source)
    if image_sha256(data) != image.sha256:
        raise InputError(f"image {image.source!r} changed while the project was open; load the project again")
    return check_image_bytes(data, f"image ({image.source})")


def fit_image(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover width x height (aspect kept), then crop the overflow equally from both sides."""
    return ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
