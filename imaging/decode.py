"""Image primitives shared by ingest and the processing engine: format sniffing, safe decoding,
orientation, hashing and WebP renditions. Pure functions of bytes; no Django, no storage.

Ingest decodes each original once, at the smallest JPEG DCT scale that still covers the largest
rendition (``Image.draft``), and derives every rendition from that one decode.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pillow_heif
from celery.exceptions import SoftTimeLimitExceeded
from PIL import Image, ImageFile

pillow_heif.register_heif_opener()
# A truncated file is an error, never a half-grey picture.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Formats we accept, keyed by the name ingest stores, with what a download should be served as.
FORMAT_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heif",
    "TIFF": "image/tiff",
}
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic", "TIFF": "tif"}
# Pillow plugin names allowed to open each sniffed format: the bytes decide, never the file name.
_PILLOW_FORMATS = {
    "JPEG": ["JPEG", "MPO"],
    "PNG": ["PNG"],
    "WEBP": ["WEBP"],
    "HEIF": ["HEIF"],
    "TIFF": ["TIFF"],
}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}

SNIFF_BYTES = 32

# EXIF tags (TIFF/EXIF 2.32 numbering).
_TAG_ORIENTATION = 0x0112
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_DATETIME = 0x0132
_IFD_EXIF = 0x8769
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011

_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# Above this many pixels per byte of file, an over-limit image is a bomb, not a big photo: real
# photos hold a few pixels per byte (JPEG ~4-10, a flat PNG a few hundred).
_BOMB_PIXELS_PER_BYTE = 1000


class ImageRejected(Exception):
    """The bytes are not a photo we can accept.

    ``code`` is stable for clients (the product words it for people); ``detail`` is what the
    image library said, for the log only; ``pixels`` is the size the file claims, when known.
    """

    def __init__(self, code: str, detail: str = "", *, pixels: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.pixels = pixels


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    long_edge: int
    quality: int
    # libwebp "method": 0 is fastest; 4 (Pillow's default) costs ~4× the time for ~5% fewer bytes.
    method: int


# What every original and every result is served as: a 1600 px preview and a 400 px thumbnail.
RENDITION_SPECS = (
    RenditionSpec(name="preview", long_edge=1600, quality=82, method=0),
    RenditionSpec(name="thumbnail", long_edge=400, quality=80, method=0),
)


@dataclass(frozen=True)
class EncodedRendition:
    spec: RenditionSpec
    data: bytes
    width: int
    height: int


@dataclass
class Analysis:
    """What ingest learned from an original, and the renditions made from it."""

    format: str
    width: int
    height: int
    orientation: int
    captured_at: datetime | None
    camera_make: str
    camera_model: str
    phash: str
    renditions: dict[str, EncodedRendition] = field(default_factory=dict)


def sniff_format(head: bytes) -> str | None:
    """The format announced by a file's first bytes, or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def analyse(data: bytes, *, specs: tuple[RenditionSpec, ...], max_pixels: int) -> Analysis:
    """Validate, describe and render an original. Raises ImageRejected with a reason."""
    image_format = _accepted_format(data)
    with _decoding(data, image_format), _open(data, image_format, max_pixels) as image:
        return _analyse(image, image_format, specs)


def _analyse(image: Image.Image, image_format: str, specs: tuple[RenditionSpec, ...]) -> Analysis:
    # Reading EXIF can decode the whole file (PNG), so it belongs inside the decoding boundary.
    exif = image.getexif()
    orientation = exif.get(_TAG_ORIENTATION, 1)
    if orientation not in range(1, 9):
        orientation = 1
    stored_width, stored_height = image.size
    _draft_for(image, max(spec.long_edge for spec in specs))
    image.load()

    working = _to_display_mode(image)
    renditions: dict[str, EncodedRendition] = {}
    # Largest first: each rendition is resized from the previous one, not from the full decode.
    for spec in sorted(specs, key=lambda s: s.long_edge, reverse=True):
        working = _fit_long_edge(working, spec.long_edge)
        upright = _apply_orientation(working, orientation)
        renditions[spec.name] = EncodedRendition(
            spec=spec,
            data=encode_webp(upright, quality=spec.quality, method=spec.method, icc=image.info),
            width=upright.width,
            height=upright.height,
        )
    smallest = _apply_orientation(working, orientation)
    swapped = orientation in (5, 6, 7, 8)
    make, model = _clean(exif.get(_TAG_MAKE)), _clean(exif.get(_TAG_MODEL))
    return Analysis(
        format=image_format,
        width=stored_height if swapped else stored_width,
        height=stored_width if swapped else stored_height,
        orientation=orientation,
        captured_at=_capture_time(exif),
        camera_make=make,
        camera_model=model,
        phash=difference_hash(smallest),
        renditions=renditions,
    )


def _accepted_format(data: bytes) -> str:
    if not data:
        raise ImageRejected("empty_file")
    image_format = sniff_format(data[:SNIFF_BYTES])
    if image_format is None:
        raise ImageRejected("unsupported_format", "unknown signature")
    if image_format == "HEIF" and _boxes_overrun(data):
        # libheif decodes a cut HEIC into a picture with blank tiles instead of failing.
        raise ImageRejected("truncated_image", "a top-level box runs past the end of the file")
    return image_format


def _boxes_overrun(data: bytes) -> bool:
    """Whether an ISO-BMFF file (HEIF) declares more bytes than it holds: walks the top-level
    boxes (32-bit size + type, 64-bit size when the size is 1, "to the end" when it is 0)."""
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 1:
            if offset + 16 > len(data):
                return True
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            return False
        if size < 8:
            return False  # not a box walk we understand: leave it to the decoder
        offset += size
    return offset > len(data)


@contextmanager
def _decoding(data: bytes, image_format: str) -> Iterator[None]:
    """The one boundary around the image library: whatever it raises while reading these bytes
    (OSError, ValueError, SyntaxError, EOFError, MemoryError…) is a rejection with a code, never
    an error to retry. A worker's soft time limit passes through: that is ours, not the file's."""
    try:
        yield
    except (ImageRejected, SoftTimeLimitExceeded):
        raise
    except Exception as error:
        raise _rejection_for(error, data, image_format) from error


def _rejection_for(error: Exception, data: bytes, image_format: str) -> ImageRejected:
    detail = f"{type(error).__name__}: {error}"
    text = str(error).lower()
    if isinstance(error, MemoryError) or "decompressed data too large" in text:
        return ImageRejected("decompression_bomb", detail)
    if "too much memory" in text:  # PNG: text chunks over PngImagePlugin.MAX_TEXT_MEMORY
        return ImageRejected("decompression_bomb", detail)
    if "decoder" in text and "not available" in text:  # e.g. a TIFF compression Pillow lacks
        return ImageRejected("unsupported_format", detail)
    if (
        isinstance(error, EOFError)
        or "truncated" in text
        or "end of file" in text
        or _ends_early(data, image_format)
    ):
        return ImageRejected("truncated_image", detail)
    return ImageRejected("corrupt_image", detail)


def _ends_early(data: bytes, image_format: str) -> bool:
    """Whether a file that failed to decode is missing its end, by the container's own rules."""
    if image_format == "PNG":
        return b"IEND" not in data[-12:]
    if image_format == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)
    return False


@contextmanager
def _open(data: bytes, image_format: str, max_pixels: int) -> Iterator[Image.Image]:
    """Reads the header only, refuses oversized images before any pixel is decoded, and frees
    the decoder's buffers when the caller is done."""
    with warnings.catch_warnings():
        # The configured limit decides (below), not Pillow's default warning threshold.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[image_format])
        except Image.DecompressionBombError as error:
            raise _oversized(_claimed_pixels(str(error)), len(data), max_pixels) from error
    try:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageRejected("corrupt_image", f"size {width}x{height}")
        if width * height > max_pixels:
            raise _oversized(width * height, len(data), max_pixels)
        yield image
    finally:
        image.close()


def _claimed_pixels(message: str) -> int | None:
    """Pillow's bomb error names the size ("Image size (N pixels) exceeds limit…")."""
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


def _oversized(pixels: int | None, size: int, max_pixels: int) -> ImageRejected:
    if pixels is None or pixels > _BOMB_PIXELS_PER_BYTE * max(size, 1):
        return ImageRejected(
            "decompression_bomb", f"{pixels} pixels in {size} bytes", pixels=pixels
        )
    return ImageRejected("too_many_pixels", f"{pixels} pixels, limit {max_pixels}", pixels=pixels)


def _draft_for(image: Image.Image, long_edge: int) -> None:
    """Ask the JPEG decoder for the smallest DCT scale still covering ``long_edge``."""
    if image.format not in ("JPEG", "MPO"):
        return
    width, height = image.size
    scale = long_edge / max(width, height)
    if scale < 1:
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))


def _to_display_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda value: value / 256).convert("RGB")
    has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _fit_long_edge(image: Image.Image, long_edge: int) -> Image.Image:
    """Downscale to ``long_edge``. After a draft decode the factor is above 0.5, where Pillow's
    antialiased bilinear filter looks like LANCZOS on screen at half its cost (24 vs 51 ms)."""
    width, height = image.size
    if max(width, height) <= long_edge:
        return image
    scale = long_edge / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image.transpose(method) if method is not None else image


def encode_webp(image: Image.Image, *, quality: int, method: int, icc: dict) -> bytes:
    """WebP with the colour profile kept and no EXIF/XMP: nothing private leaves in a rendition."""
    buffer = io.BytesIO()
    options = {"quality": quality, "method": method}
    if icc.get("icc_profile"):
        options["icc_profile"] = icc["icc_profile"]
    image.save(buffer, format="WEBP", exif=b"", xmp=b"", **options)
    return buffer.getvalue()


def difference_hash(image: Image.Image) -> str:
    """64-bit dHash: near-identical photos differ in few bits (Hamming distance)."""
    small = image.convert("L").resize((9, 8), Image.Resampling.BOX)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (left > right)
    return f"{bits:016x}"


def _clean(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value or "").replace("\x00", "").strip()[:100]


def _capture_time(exif: Image.Exif) -> datetime | None:
    exif_ifd = exif.get_ifd(_IFD_EXIF)
    raw = _clean(exif_ifd.get(_TAG_DATETIME_ORIGINAL) or exif.get(_TAG_DATETIME))
    try:
        moment = datetime.strptime(raw, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _clean(exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL))
    try:
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = offset.lstrip("+-").split(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except ValueError:
        # EXIF without an offset is camera-local time of unknown zone; UTC is the honest default.
        zone = UTC
    return moment.replace(tzinfo=zone)


def decode_upright(data: bytes, *, max_pixels: int) -> tuple[Image.Image, bytes | None]:
    """Full-resolution decode, turned upright, in RGB (transparency flattened onto white), with
    its colour profile. For processing: ingest has already vouched for these bytes."""
    image_format = _accepted_format(data)
    with _decoding(data, image_format), _open(data, image_format, max_pixels) as image:
        orientation = image.getexif().get(_TAG_ORIENTATION, 1)
        icc = image.info.get("icc_profile")
        image.load()
        decoded = _to_display_mode(image)
        if decoded.mode == "RGBA":
            flat = Image.new("RGB", decoded.size, (255, 255, 255))
            flat.paste(decoded, mask=decoded.getchannel("A"))
            decoded = flat
        elif decoded is image:
            decoded = image.copy()  # ``image`` is closed on the way out
        return _apply_orientation(decoded, orientation if orientation in range(1, 9) else 1), icc


def decode_logo(data: bytes, *, max_pixels: int, long_edge: int) -> bytes:
    """A logo for watermarks and galleries: any accepted format, checked like a photo, turned
    upright, fitted within ``long_edge`` and stored as PNG with its transparency kept (a logo
    flattened onto white would print a white box on every photo)."""
    image_format = _accepted_format(data)
    with _decoding(data, image_format), _open(data, image_format, max_pixels) as image:
        orientation = image.getexif().get(_TAG_ORIENTATION, 1)
        image.load()
        logo = _to_display_mode(image).convert("RGBA")
    logo = _apply_orientation(logo, orientation if orientation in range(1, 9) else 1)
    logo.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    logo.save(out, format="PNG", optimize=True)
    return out.getvalue()
