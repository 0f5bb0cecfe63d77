"""Makers of damaged and hostile image files, each generated from a small synthetic photo.

Used by the ingest tests and by ``bench/ingest.py``: the kinds of damage a real upload brings
(a cut transfer, a flipped bit in compressed data) and the files built to hurt a decoder.
"""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import Image


def synthetic_photo(size: tuple[int, int] = (480, 360)) -> Image.Image:
    """Noise over a gradient: compresses like a photo, so every chunk and stream is real."""
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    return Image.blend(gradient, Image.effect_noise(size, 48).convert("RGB"), 0.4)


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    if image_format == "HEIF":
        pillow_heif.from_pillow(image).save(buffer, quality=80, **options)
    else:
        image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(kind, offset, length) of each chunk after the signature."""
    chunks, offset = [], 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append((data[offset + 4 : offset + 8], offset, length))
        offset += 12 + length
    return chunks


def png_broken_stream() -> bytes:
    """A PNG whose first IDAT holds corrupted deflate data, with valid CRCs around it."""
    data = encoded(synthetic_photo(), "PNG")
    _, offset, length = next(c for c in _png_chunks(data) if c[0] == b"IDAT")
    body = bytearray(data[offset + 8 : offset + 8 + length])
    body[40:140] = b"\xff" * 100
    return data[:offset] + png_chunk(b"IDAT", bytes(body)) + data[offset + 12 + length :]


def png_truncated_last_chunk() -> bytes:
    """All the pixels, then a text chunk cut short and no IEND: the transfer stopped."""
    data = encoded(synthetic_photo(), "PNG")
    without_end = data[: -len(png_chunk(b"IEND", b""))]
    return without_end + png_chunk(b"tEXt", b"Comment\x00" + b"x" * 400)[:60]


def png_truncated_pixels() -> bytes:
    """Cut in the middle of the image data."""
    data = encoded(synthetic_photo(), "PNG")
    _, offset, length = [c for c in _png_chunks(data) if c[0] == b"IDAT"][-1]
    return data[: offset + 8 + length // 2]


def png_text_bomb(megabytes: int = 64) -> bytes:
    """A small PNG with a compressed text chunk that inflates to ``megabytes`` MB."""
    data = encoded(synthetic_photo((64, 48)), "PNG")
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (megabytes << 20), 9))
    return data[:33] + bomb + data[33:]


def png_claiming(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG whose header claims ``width``×``height`` over a tiny image stream, padded with an
    ancillary chunk of ``padding`` bytes (a big file is a plausible big photo, a tiny one a bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    filler = png_chunk(b"zzZz", b"\x00" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + filler
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def jpeg_truncated() -> bytes:
    data = encoded(synthetic_photo(), "JPEG", quality=90)
    return data[: len(data) * 2 // 3]


def heic_truncated() -> bytes:
    data = encoded(synthetic_photo(), "HEIF")
    return data[: len(data) * 2 // 3]


def bigtiff() -> bytes:
    """A BigTIFF header (version 43, 8-byte offsets): a TIFF variant we do not accept."""
    return b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 16) + struct.pack("<Q", 0) + bytes(64)
