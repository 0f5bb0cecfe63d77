"""Local operations: enhancement, geometry, HDR, privacy, branding and sizing.

Statistics are measured on a small copy; full-resolution work is done with per-channel lookup
tables and OpenCV's vectorised kernels on ``uint8`` — never per-pixel Python, never float64.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imaging.ops.registry import OperationContext, Param, operation

cv2.setNumThreads(1)  # one job per worker process per core: threads only add contention
_STATS_EDGE = 512


def _small(image: np.ndarray, long_edge: int = _STATS_EDGE) -> np.ndarray:
    height, width = image.shape[:2]
    scale = long_edge / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of an RGB image, float32 in 0..1."""
    rgb = image.astype(np.float32) / 255.0
    return rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


# --- auto_enhance ---------------------------------------------------------------------------


@operation(
    "auto_enhance",
    summary="Exposure, white balance, contrast, vibrance and sharpening measured from the photo.",
    strength=Param(float, 0.8, 0.0, 1.0, help="0 leaves the photo as it is, 1 applies it all."),
    brightness=Param(float, 0.46, 0.2, 0.7, help="Target median luminance (0..1)."),
    white_balance=Param(bool, True, help="Neutralise colour casts (grey world)."),
    warmth=Param(float, 0.0, -1.0, 1.0, help="Shift towards warm (+) or cool (−) after balancing."),
    contrast=Param(float, 0.5, 0.0, 1.0, help="How far to stretch the tonal range to the ends."),
    vibrance=Param(float, 0.25, 0.0, 1.0, help="Boost muted colours more than saturated ones."),
    sharpen=Param(float, 0.4, 0.0, 2.0, help="Unsharp-mask amount on luma."),
)
def auto_enhance(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    strength = params["strength"]
    stats = _small(image).reshape(-1, 3).astype(np.float32)

    gains = np.ones(3, dtype=np.float32)
    if params["white_balance"]:
        usable = stats[(stats.max(axis=1) < 250) & (stats.min(axis=1) > 5)]
        if len(usable) > 100:
            means = usable.mean(axis=0)
            gains = np.clip(means.mean() / means, 0.6, 1.6)
    warmth = params["warmth"] * 0.08
    gains = gains * np.array([1 + warmth, 1.0, 1 - warmth], dtype=np.float32)
    gains = 1 + (gains - 1) * strength

    balanced = np.clip(stats * gains / 255.0, 0, 1)
    luma = balanced @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    low, high = np.percentile(luma, [0.5, 99.5])
    low, high = low * params["contrast"], 1 - (1 - high) * params["contrast"]
    if high - low < 0.05:
        low, high = 0.0, 1.0
    stretched_median = float(np.clip((np.median(luma) - low) / (high - low), 0.02, 0.98))
    gamma = math.log(params["brightness"]) / math.log(stretched_median)
    gamma = float(np.clip(gamma, 0.35, 2.5)) ** strength
    low, high = low * strength, 1 - (1 - high) * strength

    ramp = np.arange(256, dtype=np.float32) / 255.0
    curves = np.empty((256, 3), dtype=np.float32)
    for channel in range(3):
        values = np.clip((ramp * gains[channel] - low) / (high - low), 0, 1)
        curves[:, channel] = values**gamma
    lut = np.clip(curves * 255 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    result = cv2.LUT(image, lut)

    vibrance, sharpen = params["vibrance"] * strength, params["sharpen"] * strength
    if vibrance == 0 and sharpen == 0:
        return result
    ycrcb = cv2.cvtColor(result, cv2.COLOR_RGB2YCrCb)
    if vibrance:
        # Chroma distance from neutral, boosted most where colour is muted: greys stay grey.
        offset = np.arange(256, dtype=np.float32) - 128
        boosted = offset * (1 + vibrance * (1 - np.abs(offset) / 128) * 1.5)
        chroma = np.clip(boosted + 128.5, 0, 255).astype(np.uint8)
        identity = np.arange(256, dtype=np.uint8)
        ycrcb = cv2.LUT(ycrcb, np.stack([identity, chroma, chroma], axis=1).reshape(256, 1, 3))
    if sharpen:
        luma_channel = np.ascontiguousarray(ycrcb[:, :, 0])
        sigma = max(0.8, max(image.shape[:2]) / 3000)
        blurred = cv2.GaussianBlur(luma_channel, (0, 0), sigma)
        ycrcb[:, :, 0] = cv2.addWeighted(luma_channel, 1 + sharpen, blurred, -sharpen, 0)
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)


# --- straighten -----------------------------------------------------------------------------


def vertical_line_tilts(image: np.ndarray, max_angle: float) -> np.ndarray:
    """(tilt in degrees, x position 0..1, length) of near-vertical line segments in the photo."""
    small = _small(image, 1200)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 150)
    height, width = gray.shape
    lines = cv2.HoughLinesP(
        edges, 1, np.pi / 720, threshold=60, minLineLength=height // 8, maxLineGap=6
    )
    if lines is None:
        return np.empty((0, 3), dtype=np.float32)
    x1, y1, x2, y2 = (lines[:, 0, i].astype(np.float32) for i in range(4))
    flip = y2 < y1  # orient every segment bottom → top
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    tilt = np.degrees(np.arctan2(x2 - x1, y2 - y1))
    length = np.hypot(x2 - x1, y2 - y1)
    near = np.abs(tilt) <= max_angle * 1.5
    centre = (x1 + x2) / 2 / width
    return np.stack([tilt[near], centre[near], length[near]], axis=1)


@operation(
    "straighten",
    summary="Level the photo and correct converging verticals from detected near-vertical lines.",
    max_angle=Param(float, 6.0, 0.5, 15.0, help="Largest correction, in degrees."),
    perspective=Param(bool, True, help="Also correct keystone (verticals leaning together)."),
)
def straighten(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    segments = vertical_line_tilts(image, params["max_angle"])
    if len(segments) < 3:
        return image
    tilt, position, weight = segments[:, 0], segments[:, 1] - 0.5, segments[:, 2]
    if params["perspective"] and np.ptp(position) > 0.3:
        # Weighted fit tilt = roll + keystone × position: roll turns the frame, keystone leans
        # lines on the left and right towards each other.
        design = np.stack([np.ones_like(position), position], axis=1) * np.sqrt(weight)[:, None]
        roll, keystone = np.linalg.lstsq(design, tilt * np.sqrt(weight), rcond=None)[0]
    else:
        order = np.argsort(tilt)
        cumulative = np.cumsum(weight[order])
        roll, keystone = tilt[order][np.searchsorted(cumulative, cumulative[-1] / 2)], 0.0
    roll = float(np.clip(roll, -params["max_angle"], params["max_angle"]))
    keystone = float(np.clip(keystone, -2 * params["max_angle"], 2 * params["max_angle"]))
    if abs(roll) < 0.05 and abs(keystone) < 0.1:
        return image
    height, width = image.shape[:2]
    # Where each corner must go so that lines become vertical: rotate by −roll about the centre,
    # then pull the top edge in (or out) so lines at ±½ width lose their lean.
    top_shift = height * math.tan(math.radians(keystone / 2))
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32([[-top_shift, 0], [width + top_shift, 0], [width, height], [0, height]])
    homography = cv2.getPerspectiveTransform(source, target)
    rotation = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), -roll, 1.0), [0, 0, 1]])
    transform = rotation @ homography
    warped = cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return _crop_to_valid(warped, transform, width, height)


def _crop_to_valid(warped: np.ndarray, transform: np.ndarray, width: int, height: int):
    """Crop away the borders the warp filled in, keeping the aspect ratio."""
    corners = cv2.perspectiveTransform(
        np.float32([[[0, 0]], [[width, 0]], [[width, height]], [[0, height]]]), transform
    )[:, 0]
    left = max(corners[0][0], corners[3][0], 0)
    right = min(corners[1][0], corners[2][0], width)
    top = max(corners[0][1], corners[1][1], 0)
    bottom = min(corners[2][1], corners[3][1], height)
    scale = min((right - left) / width, (bottom - top) / height, 1.0)
    if scale <= 0.5:
        return warped
    crop_w, crop_h = int(width * scale), int(height * scale)
    x0 = round((left + right - crop_w) / 2)
    y0 = round((top + bottom - crop_h) / 2)
    x0, y0 = min(max(x0, 0), width - crop_w), min(max(y0, 0), height - crop_h)
    return np.ascontiguousarray(warped[y0 : y0 + crop_h, x0 : x0 + crop_w])


# --- hdr_merge ------------------------------------------------------------------------------


@operation(
    "hdr_merge",
    summary="Exposure fusion of 3–7 bracketed shots of one scene (Mertens), aligned first.",
    align=Param(bool, True, help="Align the shots (median threshold bitmaps) before merging."),
)
def hdr_merge(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    shots = context.brackets or [image]
    if not 3 <= len(shots) <= 7:
        raise ValueError("hdr_merge needs 3 to 7 bracketed shots")
    height, width = shots[0].shape[:2]
    shots = [s if s.shape[:2] == (height, width) else cv2.resize(s, (width, height)) for s in shots]
    if params["align"]:
        aligned = [s.copy() for s in shots]
        cv2.createAlignMTB().process(shots, aligned)
        shots = aligned
    fused = cv2.createMergeMertens().process(shots)
    return np.clip(fused * 255 + 0.5, 0, 255).astype(np.uint8)


# --- privacy_blur ---------------------------------------------------------------------------

_CASCADES: dict[str, cv2.CascadeClassifier] = {}


def _cascade(name: str) -> cv2.CascadeClassifier:
    if name not in _CASCADES:
        _CASCADES[name] = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    return _CASCADES[name]


def detect_private_regions(image: np.ndarray, *, faces: bool, plates: bool) -> list[tuple]:
    """(x, y, w, h) boxes of faces and licence plates, in full-resolution pixels."""
    small = _small(image, 1200)
    scale = image.shape[1] / small.shape[1]
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    found = []
    detectors = []
    if faces:
        detectors += [
            ("haarcascade_frontalface_default.xml", 5),
            ("haarcascade_profileface.xml", 5),
        ]
    if plates:
        detectors += [("haarcascade_russian_plate_number.xml", 4)]
    for name, neighbours in detectors:
        boxes = _cascade(name).detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=neighbours, minSize=(24, 24)
        )
        found += [tuple(int(v * scale) for v in box) for box in boxes]
    return found


@operation(
    "privacy_blur",
    summary="Blur faces and licence plates (OpenCV Haar cascades) and any regions you mark.",
    faces=Param(bool, True),
    plates=Param(bool, True),
    regions=Param(list, [], help="Extra boxes [x0, y0, x1, y1] in 0..1 of width/height."),
    padding=Param(float, 0.2, 0.0, 1.0, help="Grow each box by this share of its size."),
)
def privacy_blur(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    height, width = image.shape[:2]
    boxes = detect_private_regions(image, faces=params["faces"], plates=params["plates"])
    for x0, y0, x1, y1 in _normalised_boxes(params["regions"] + context.mask_regions):
        boxes.append(
            (int(x0 * width), int(y0 * height), int((x1 - x0) * width), int((y1 - y0) * height))
        )
    if not boxes:
        return image
    result = image.copy()
    for x, y, w, h in boxes:
        pad_w, pad_h = int(w * params["padding"] / 2), int(h * params["padding"] / 2)
        x0, y0 = max(0, x - pad_w), max(0, y - pad_h)
        x1, y1 = min(width, x + w + pad_w), min(height, y + h + pad_h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = result[y0:y1, x0:x1]
        # Mosaic first (cannot be sharpened back), then soften the blocks.
        blocks = cv2.resize(
            region, (max(1, (x1 - x0) // 16), max(1, (y1 - y0) // 16)), interpolation=cv2.INTER_AREA
        )
        mosaic = cv2.resize(blocks, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        result[y0:y1, x0:x1] = cv2.GaussianBlur(mosaic, (0, 0), max(2.0, (x1 - x0) / 30))
    return result


def _normalised_boxes(raw: list) -> list[tuple[float, float, float, float]]:
    boxes = []
    for box in raw:
        if not (isinstance(box, list | tuple) and len(box) == 4):
            raise ValueError("each region is [x0, y0, x1, y1] in 0..1")
        x0, y0, x1, y1 = (min(max(float(v), 0.0), 1.0) for v in box)
        if x1 > x0 and y1 > y0:
            boxes.append((x0, y0, x1, y1))
    return boxes


# --- watermark ------------------------------------------------------------------------------

_POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left", "center")


@operation(
    "watermark",
    summary="Agency text or logo over the photo, at a corner or centred, semi-transparent.",
    text=Param(str, "", help="Text to write; empty uses the agency's watermark text."),
    use_logo=Param(bool, False, help="Use the agency logo instead of text."),
    position=Param(str, "bottom-right", choices=_POSITIONS),
    opacity=Param(float, 0.5, 0.05, 1.0),
    size=Param(float, 0.04, 0.01, 0.3, help="Text height (or logo width) as a share of the photo."),
)
def watermark(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    height, width = image.shape[:2]
    if params["use_logo"] and context.logo is not None:
        mark = context.logo.convert("RGBA")
        target_w = max(8, int(width * params["size"] * 4))
        mark = mark.resize((target_w, max(1, int(mark.height * target_w / mark.width))))
    else:
        text = params["text"] or context.watermark_text
        if not text:
            return image
        mark = text_stamp(text, max(10, int(height * params["size"])))
    alpha = mark.getchannel("A").point(lambda a: int(a * params["opacity"]))
    mark.putalpha(alpha)
    margin = int(min(width, height) * 0.03)
    x, y = _place(params["position"], (width, height), mark.size, margin)
    base = Image.fromarray(image)
    base.paste(mark, (x, y), mark)
    return np.asarray(base)


def text_stamp(text: str, font_size: int) -> Image.Image:
    """White text with a soft dark outline, readable on any background."""
    font = ImageFont.load_default(size=font_size)
    left, top, right, bottom = font.getbbox(text, stroke_width=max(1, font_size // 12))
    stamp = Image.new("RGBA", (right - left + 4, bottom - top + 4), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).text(
        (2 - left, 2 - top),
        text,
        font=font,
        fill=(255, 255, 255, 255),
        stroke_width=max(1, font_size // 12),
        stroke_fill=(0, 0, 0, 160),
    )
    return stamp


def _place(position: str, canvas: tuple[int, int], size: tuple[int, int], margin: int):
    (width, height), (w, h) = canvas, size
    x = {"left": margin, "right": width - w - margin}.get(position.split("-")[-1], (width - w) // 2)
    y = {"top": margin, "bottom": height - h - margin}.get(
        position.split("-")[0], (height - h) // 2
    )
    return max(0, x), max(0, y)


# --- resize and crop ------------------------------------------------------------------------


@operation(
    "resize",
    summary="Fit inside a box (contain), fill it (cover) or set the long edge.",
    width=Param(int, None, 16, 12000),
    height=Param(int, None, 16, 12000),
    long_edge=Param(int, None, 16, 12000),
    fit=Param(str, "contain", choices=("contain", "cover")),
    upscale=Param(bool, False, help="Allow making the photo larger."),
)
def resize(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    height, width = image.shape[:2]
    if params["long_edge"]:
        scale = params["long_edge"] / max(width, height)
    elif params["width"] or params["height"]:
        scales = [
            params["width"] / width if params["width"] else None,
            params["height"] / height if params["height"] else None,
        ]
        scales = [s for s in scales if s]
        scale = max(scales) if params["fit"] == "cover" else min(scales)
    else:
        return image
    if scale > 1 and not params["upscale"]:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, size, interpolation=interpolation)
    if params["fit"] == "cover" and params["width"] and params["height"]:
        return _centre_crop(resized, params["width"], params["height"])
    return resized


def _centre_crop(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    width, height = min(width, w), min(height, h)
    x0, y0 = (w - width) // 2, (h - height) // 2
    return np.ascontiguousarray(image[y0 : y0 + height, x0 : x0 + width])


@operation(
    "crop",
    summary="Crop to an aspect ratio (e.g. 3:2, 4:3, 16:9, 1:1), keeping the centre or an edge.",
    aspect=Param(str, "3:2", help="Width:height, e.g. 3:2."),
    gravity=Param(str, "center", choices=("center", "top", "bottom", "left", "right")),
)
def crop(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    try:
        ratio_w, ratio_h = (float(v) for v in params["aspect"].split(":"))
        ratio = ratio_w / ratio_h
    except (ValueError, ZeroDivisionError) as error:
        raise ValueError("aspect must look like 3:2") from error
    height, width = image.shape[:2]
    if width / height > ratio:
        new_w, new_h = round(height * ratio), height
    else:
        new_w, new_h = width, round(width / ratio)
    gravity = params["gravity"]
    x0 = {"left": 0, "right": width - new_w}.get(gravity, (width - new_w) // 2)
    y0 = {"top": 0, "bottom": height - new_h}.get(gravity, (height - new_h) // 2)
    return np.ascontiguousarray(image[y0 : y0 + new_h, x0 : x0 + new_w])
