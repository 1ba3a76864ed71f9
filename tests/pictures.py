"""Pictures for tests: photo-like ones to upload as keyframes, and hostile ones."""

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height (a decompression bomb's header)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def photo_like(width: int = 96, height: int = 64) -> Image.Image:
    """Smooth gradients with a soft sun: no noise, like a photo scaled down."""
    y, x = np.mgrid[0:height, 0:width].astype(float)
    sky = np.stack([90 + 120 * y / height, 140 + 60 * y / height, 230 - 80 * y / height], -1)
    sun = np.exp(-((x - 0.7 * width) ** 2 + (y - 0.3 * height) ** 2) / 120.0)[..., None] * [120, 90, -60]
    image = Image.fromarray(np.clip(sky + sun, 0, 255).astype(np.uint8))
    ImageDraw.Draw(image).rectangle((0, int(0.75 * height), width, height), fill=(40, 90, 50))  # a meadow
    return image
