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


# Do-no-harm limits of auto_enhance, measured by bench/quality.py.
_NEAR_CLIP = (235, 252)  # a pixel's brightest channel here fades from balanced to untouched
_WARM_KEEP = 0.5  # share of a warm cast left in: lamp-lit rooms should still feel lamp-lit
_NEUTRAL_CHROMA = 0.05  # rgb-chromaticity distance from grey of a neutral candidate
_MIN_NEUTRAL_SHARE = 0.03  # fewer neutral candidates than this share of the photo: no balance
_SHOULDER, _TOE = 0.88, 0.08  # soft ends of the tone curve: no new clipped pixels
_NOISE_BUDGET = 1.5  # 8-bit high-pass noise the shadows may show after lifting


def _neutral_gains(stats: np.ndarray) -> np.ndarray:
    """Channel gains that make the photo's near-neutral areas neutral.

    Candidates are lit, unclipped pixels that are nearly grey once balanced (walls, ceilings,
    white paint), refined from a grey-world start; a photo with too few of them is left alone.
    """
    ones = np.ones(3, dtype=np.float32)
    usable = stats[(stats.max(axis=1) < _NEAR_CLIP[0]) & (stats.min(axis=1) > 20)]
    if len(usable) < _MIN_NEUTRAL_SHARE * len(stats):
        return ones
    means = usable.mean(axis=0)
    gains = np.clip(means.mean() / means, 0.8, 1.25)
    for _ in range(3):
        balanced = usable * gains
        chromaticity = balanced / (balanced.sum(axis=1, keepdims=True) + 1e-3)
        neutral = usable[np.abs(chromaticity - 1 / 3).max(axis=1) < _NEUTRAL_CHROMA]
        if len(neutral) < _MIN_NEUTRAL_SHARE * len(stats):
            return ones
        means = neutral.mean(axis=0)
        gains = np.clip(means.mean() / means, 0.7, 1.4).astype(np.float32)
    if gains[2] > gains[0]:  # the cast is warm (blue is being raised): keep part of it
        gains = 1 + (gains - 1) * (1 - _WARM_KEEP)
    return gains / gains.max() * min(1.0, float(gains.max()))


def _soft_ends(values: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Maps a stretched range [bottom, top] onto [0, 1] with a smooth toe and shoulder instead of
    clipping: what the sensor kept stays distinguishable, only what it clipped ends at 0 or 255."""
    result = values.copy()
    if top > _SHOULDER:
        span = 1 - _SHOULDER
        over = values > _SHOULDER
        norm = 1 - math.exp(-(top - _SHOULDER) / span)
        result[over] = _SHOULDER + span * (1 - np.exp(-(values[over] - _SHOULDER) / span)) / norm
    if bottom < _TOE:
        under = values < _TOE
        norm = 1 - math.exp(-(_TOE - bottom) / _TOE)
        result[under] = _TOE - _TOE * (1 - np.exp(-(_TOE - values[under]) / _TOE)) / norm
    return np.clip(result, 0, 1)


def _tone_curves(gains: np.ndarray, low: float, high: float, gamma: float) -> np.ndarray:
    """(256, 3) float curves: gain, stretch [low, high] with soft ends, then gamma."""
    ramp = np.arange(256, dtype=np.float32) / 255.0
    curves = np.empty((256, 3), dtype=np.float32)
    for channel in range(3):
        stretched = (ramp * gains[channel] - low) / (high - low)
        top, bottom = (gains[channel] - low) / (high - low), -low / (high - low)
        curves[:, channel] = _soft_ends(stretched, top, bottom) ** gamma
    return curves


def _to_lut(curves: np.ndarray) -> np.ndarray:
    return np.clip(curves * 255 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


def _shadow_noise(image: np.ndarray) -> float:
    """Robust high-pass noise (8-bit units) in the dark quarter of the photo, measured on
    full-resolution tiles spread over the frame (a shrunk copy would average the noise away)."""
    height, width = image.shape[:2]
    tile = min(128, height // 4, width // 4)
    samples = []
    for row in range(4):
        for column in range(4):
            y, x = (
                (2 * row + 1) * height // 8 - tile // 2,
                (2 * column + 1) * width // 8 - tile // 2,
            )
            gray = cv2.cvtColor(image[y : y + tile, x : x + tile], cv2.COLOR_RGB2GRAY)
            detail = gray.astype(np.float32) - cv2.GaussianBlur(gray, (0, 0), 1.0)
            samples.append(np.abs(detail[gray < 64]))
    dark = np.concatenate(samples)
    if len(dark) < 500:
        return 0.0
    return float(np.median(dark) * 1.4826)


@operation(
    "auto_enhance",
    summary=(
        "Exposure, white balance, contrast, vibrance and sharpening measured from the photo; "
        "clipped highlights stay neutral, shadows are denoised as they are lifted."
    ),
    strength=Param(float, 0.8, 0.0, 1.0, help="0 leaves the photo as it is, 1 applies it all."),
    brightness=Param(float, 0.46, 0.2, 0.7, help="Target median luminance (0..1)."),
    white_balance=Param(
        bool,
        True,
        help="Neutralise colour casts measured on near-neutral areas (warm light stays warmer).",
    ),
    warmth=Param(float, 0.0, -1.0, 1.0, help="Shift towards warm (+) or cool (−) after balancing."),
    contrast=Param(float, 0.5, 0.0, 1.0, help="How far to stretch the tonal range to the ends."),
    vibrance=Param(float, 0.25, 0.0, 1.0, help="Boost muted colours more than saturated ones."),
    sharpen=Param(float, 0.4, 0.0, 2.0, help="Unsharp-mask amount on luma (not in noisy shadows)."),
)
def auto_enhance(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    strength = params["strength"]
    if strength == 0:
        return image
    small = _small(image)
    stats = small.reshape(-1, 3).astype(np.float32)

    gains = _neutral_gains(stats) if params["white_balance"] else np.ones(3, dtype=np.float32)
    warmth = params["warmth"] * 0.08
    gains = gains * np.array([1 + warmth, 1.0, 1 - warmth], dtype=np.float32)
    gains = 1 + (gains - 1) * strength

    weights = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    before = (stats / 255.0) @ weights
    luma = np.clip(stats * gains / 255.0, 0, 1) @ weights
    low, high = np.percentile(luma, [0.5, 99.5])
    low, high = low * params["contrast"], 1 - (1 - high) * params["contrast"]
    if high - low < 0.05:
        low, high = 0.0, 1.0
    stretched_median = float(np.clip((np.median(luma) - low) / (high - low), 0.02, 0.98))
    gamma = math.log(params["brightness"]) / math.log(stretched_median)
    gamma = float(np.clip(gamma, 0.35, 2.5)) ** strength
    low, high = low * strength, 1 - (1 - high) * strength

    # Never darken a photo that is not over-exposed: brighten the curve until the mean holds.
    overexposed = (stats.max(axis=1) >= 254).mean() > 0.05 or before.mean() > 0.75

    def mean_after(g: float) -> float:
        curves = _tone_curves(gains, low, high, g)
        return float((curves[small.reshape(-1, 3), [0, 1, 2]] @ weights).mean())

    if not overexposed:
        while gamma > 0.35 and mean_after(gamma) < before.mean():
            gamma *= 0.95
    curves = _tone_curves(gains, low, high, gamma)
    result = cv2.LUT(image, _to_lut(curves))
    plain = _tone_curves(np.ones(3, np.float32), low, high, gamma)

    # Lifting shadows lifts their noise: denoise them by as much as the lift would show.
    noise = _shadow_noise(image)
    shadows = before[before < 0.25]
    level = int(np.clip(np.median(shadows) * 255, 8, 247)) if len(shadows) else 40
    slope = float((curves[level + 8] - curves[level - 8]).mean() * 255 / 16)
    lifted = noise * max(1.0, slope)
    allowed = max(_NOISE_BUDGET, 1.25 * noise)
    denoise = float(np.clip(1.2 * (1 - allowed / lifted), 0, 0.9)) if lifted > allowed else 0.0
    vibrance, sharpen = params["vibrance"] * strength, params["sharpen"] * strength
    if vibrance == 0 and sharpen == 0 and denoise == 0:
        _keep_highlights_neutral(image, result, plain)
        return result
    ycrcb = cv2.cvtColor(result, cv2.COLOR_RGB2YCrCb)
    if vibrance:
        # Chroma distance from neutral, boosted most where colour is muted: greys stay grey.
        offset = np.arange(256, dtype=np.float32) - 128
        boosted = offset * (1 + vibrance * (1 - np.abs(offset) / 128) * 1.5)
        chroma = np.clip(boosted + 128.5, 0, 255).astype(np.uint8)
        identity = np.arange(256, dtype=np.uint8)
        ycrcb = cv2.LUT(ycrcb, np.stack([identity, chroma, chroma], axis=1).reshape(256, 1, 3))
    if sharpen or denoise:
        luma_channel = np.ascontiguousarray(ycrcb[:, :, 0])
        sigma = max(0.8, max(image.shape[:2]) / 3000)
        blurred = cv2.GaussianBlur(luma_channel, (0, 0), sigma)
        sharpened = cv2.addWeighted(luma_channel, 1 + sharpen, blurred, -sharpen, 0)
        if denoise:
            # Dark tones are pulled towards a wider blur, mid-tones and highlights sharpened.
            wide = cv2.GaussianBlur(luma_channel, (0, 0), 2 * sigma)
            smoothed = cv2.addWeighted(luma_channel, 1 - denoise, wide, denoise, 0)
            # Which pixels were shadows before the lift: the original's luma decides.
            tones = np.arange(256, dtype=np.float32) / 255.0
            dark = np.clip(255 * (1 - (tones - 0.2) / 0.15), 0, 255).astype(np.uint8)
            weight = cv2.LUT(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dark)
            step = cv2.subtract(smoothed, sharpened, dtype=cv2.CV_16S)
            step = cv2.multiply(step, weight, scale=1 / 255, dtype=cv2.CV_16S)
            sharpened = cv2.add(sharpened, step, dtype=cv2.CV_8U)
        ycrcb[:, :, 0] = sharpened
    result = cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)
    _keep_highlights_neutral(image, result, plain)
    return result


def _keep_highlights_neutral(image: np.ndarray, result: np.ndarray, plain: np.ndarray) -> None:
    """Near-clipped pixels fade from the enhanced result to the tone curve alone (``plain``: no
    balance, no vibrance): a blown window or lamp stays neutral white instead of taking a tint."""
    flat, out = image.reshape(-1, 3), result.reshape(-1, 3)
    brightest = cv2.max(cv2.max(flat[:, 0], flat[:, 1]), flat[:, 2]).ravel()
    near = np.flatnonzero(brightest >= _NEAR_CLIP[0])
    if not len(near):
        return
    keep = np.clip((brightest[near] - _NEAR_CLIP[0]) / (_NEAR_CLIP[1] - _NEAR_CLIP[0]), 0, 1)
    pixels = flat[near]
    neutral = plain[pixels, [0, 1, 2]] * 255
    balanced = out[near].astype(np.float32)
    out[near] = np.clip(balanced + (neutral - balanced) * keep[:, None] + 0.5, 0, 255)


# --- straighten -----------------------------------------------------------------------------


_LINES_EDGE = 1200


def vertical_line_tilts(image: np.ndarray, max_angle: float) -> np.ndarray:
    """(tilt in degrees, x position 0..1, length) of long near-vertical line segments.

    OpenCV's line segment detector (sub-pixel, no thresholds to tune per exposure) rather than a
    probabilistic Hough transform, whose angles are quantised and whose lines change when the
    tones do: the same photo brightened must show the same lines.
    """
    small = _small(image, _LINES_EDGE)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    lines = cv2.createLineSegmentDetector().detect(gray)[0]
    if lines is None:
        return np.empty((0, 3), dtype=np.float32)
    x1, y1, x2, y2 = (lines[:, 0, i].astype(np.float32) for i in range(4))
    flip = y2 < y1  # orient every segment bottom → top
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    tilt = np.degrees(np.arctan2(x2 - x1, y2 - y1))
    length = np.hypot(x2 - x1, y2 - y1)
    keep = (np.abs(tilt) <= max_angle * 1.5) & (length >= height / 10)
    centre = (x1 + x2) / 2 / width
    return np.stack([tilt[keep], centre[keep], length[keep]], axis=1)


# Evidence straighten needs before it turns a photo: architecture gives several long lines spread
# across the frame that agree; a flower, a face or foliage does not.
_MIN_LINES = 6
_MIN_SPREAD = 0.4  # share of the width between the outermost lines
_MIN_TOTAL_LENGTH = 1.5  # summed line length, in frame heights
_MAX_DISAGREEMENT = 0.6  # degrees between estimates from two halves of the lines
_MIN_KEPT_AREA = 0.9


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _fit_lean(segments: np.ndarray, perspective: bool) -> tuple[float, float]:
    """(roll, keystone) in degrees: tilt ≈ roll + keystone × (x − ½), weighted by length."""
    tilt, position, weight = segments[:, 0], segments[:, 1] - 0.5, segments[:, 2]
    if perspective and np.ptp(position) > 0.3:
        design = np.stack([np.ones_like(position), position], axis=1) * np.sqrt(weight)[:, None]
        roll, keystone = np.linalg.lstsq(design, tilt * np.sqrt(weight), rcond=None)[0]
        return float(roll), float(keystone)
    return weighted_median(tilt, weight), 0.0


def _residual(segments: np.ndarray, roll: float, keystone: float) -> float:
    predicted = roll + keystone * (segments[:, 1] - 0.5)
    return weighted_median(np.abs(segments[:, 0] - predicted), segments[:, 2])


def _correction(shape: tuple, segments: np.ndarray, params: dict) -> tuple[float, float]:
    """The lean the lines support with confidence, or (0, 0)."""
    if len(segments) < _MIN_LINES:
        return 0.0, 0.0
    position, length = segments[:, 1], segments[:, 2]
    working_height = shape[0] * min(1.0, _LINES_EDGE / max(shape[:2]))
    if np.ptp(position) < _MIN_SPREAD or length.sum() < _MIN_TOTAL_LENGTH * working_height:
        return 0.0, 0.0
    # Lines must sit on both sides of the centre: a lean seen on one side only is not a frame lean.
    if min((position < 0.5).sum(), (position >= 0.5).sum()) < 2:
        return 0.0, 0.0
    roll, keystone = _fit_lean(segments, params["perspective"])
    # Two independent halves of the evidence (alternate lines by length) must agree.
    order = np.argsort(-length)
    first, second = segments[order[0::2]], segments[order[1::2]]
    (roll_a, key_a), (roll_b, key_b) = (
        _fit_lean(h, params["perspective"]) for h in (first, second)
    )
    if abs(roll_a - roll_b) > _MAX_DISAGREEMENT or abs(key_a - key_b) > 2 * _MAX_DISAGREEMENT:
        return 0.0, 0.0
    # Never turn past what the lines show: the correction must leave them straighter.
    if _residual(segments, roll, keystone) >= weighted_median(np.abs(segments[:, 0]), length):
        return 0.0, 0.0
    limit = params["max_angle"]
    return float(np.clip(roll, -limit, limit)), float(np.clip(keystone, -2 * limit, 2 * limit))


@operation(
    "straighten",
    summary="Level the photo and correct converging verticals, only on clear architectural lines.",
    max_angle=Param(float, 6.0, 0.5, 15.0, help="Largest correction, in degrees."),
    perspective=Param(bool, True, help="Also correct keystone (verticals leaning together)."),
)
def straighten(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    height, width = image.shape[:2]
    roll, keystone = _correction(
        image.shape, vertical_line_tilts(image, params["max_angle"]), params
    )
    if abs(roll) < 0.05 and abs(keystone) < 0.1:
        return image
    # A smaller correction beats a larger crop: shrink it until the crop keeps 90% of the area.
    for share in np.linspace(1.0, 0.1, 10):
        transform = _lean_transform(width, height, roll * share, keystone * share)
        window = _valid_window(transform, width, height)
        if window is not None and (window[2] * window[3]) / (width * height) >= _MIN_KEPT_AREA:
            break
    else:
        return image
    warped = cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    x0, y0, crop_w, crop_h = window
    return np.ascontiguousarray(warped[y0 : y0 + crop_h, x0 : x0 + crop_w])


def _lean_transform(width: int, height: int, roll: float, keystone: float) -> np.ndarray:
    """Rotate by −roll about the centre, then pull the top edge in (or out) so lines at ±½ width
    lose their lean."""
    top_shift = height * math.tan(math.radians(keystone / 2))
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32([[-top_shift, 0], [width + top_shift, 0], [width, height], [0, height]])
    homography = cv2.getPerspectiveTransform(source, target)
    rotation = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), -roll, 1.0), [0, 0, 1]])
    return rotation @ homography


def _valid_window(transform: np.ndarray, width: int, height: int):
    """(x, y, w, h) of the largest centred window of the original aspect ratio holding no pixel
    the warp had to invent, or None."""
    corners = cv2.perspectiveTransform(
        np.float32([[[0, 0]], [[width, 0]], [[width, height]], [[0, height]]]), transform
    )[:, 0]
    left = max(corners[0][0], corners[3][0], 0)
    right = min(corners[1][0], corners[2][0], width)
    top = max(corners[0][1], corners[1][1], 0)
    bottom = min(corners[2][1], corners[3][1], height)
    # A rotated frame also cuts the window's corners: shrink until the four corners are inside.
    inverse = np.linalg.inv(transform)
    scale = min((right - left) / width, (bottom - top) / height, 1.0)
    while scale > 0.5:
        crop_w, crop_h = int(width * scale), int(height * scale)
        x0 = min(max(round((left + right - crop_w) / 2), 0), width - crop_w)
        y0 = min(max(round((top + bottom - crop_h) / 2), 0), height - crop_h)
        window = np.float32(
            [[[x0, y0]], [[x0 + crop_w, y0]], [[x0 + crop_w, y0 + crop_h]], [[x0, y0 + crop_h]]]
        )
        source = cv2.perspectiveTransform(window, inverse)[:, 0]
        inside = (source[:, 0] >= -0.5) & (source[:, 0] <= width + 0.5)
        inside &= (source[:, 1] >= -0.5) & (source[:, 1] <= height + 0.5)
        if inside.all():
            return x0, y0, crop_w, crop_h
        scale -= 0.01
    return None


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

# Measured on ../shared/data (bench/quality.py): OpenCV's Haar face cascade put boxes on 20 of
# 41 photos without a face (cushions, lamps, gates); dlib's HOG detector found the same frontal
# faces and its only false box (a chandelier) scored 0.03. OpenCV's Haar plate cascades found none
# of the labelled real plates; the plate finder below finds plates by their light rectangle and
# their row of characters, and put no box on any photo without a plate.
_FACE_EDGE = 1600
_FACE_MIN_SCORE = 0.3
_FACE_DETECTOR = None


def _faces(image: np.ndarray) -> list[tuple]:
    global _FACE_DETECTOR
    import dlib  # loaded when first needed: a second of start-up most workers never pay

    if _FACE_DETECTOR is None:
        _FACE_DETECTOR = dlib.get_frontal_face_detector()
    small = _small(image, _FACE_EDGE)
    scale = image.shape[1] / small.shape[1]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    boxes, _scores, _ = _FACE_DETECTOR.run(gray, 1, _FACE_MIN_SCORE)
    return [
        tuple(int(v * scale) for v in (b.left(), b.top(), b.width(), b.height())) for b in boxes
    ]


def _reads_as_plate(gray: np.ndarray) -> bool:
    """A light background with one row of 4 to 10 dark characters of one height across it."""
    height, width = gray.shape
    if height < 10 or width < 2 * height:
        return False
    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    stats = cv2.connectedComponentsWithStats(binary, connectivity=8)[2][1:]
    x, _, w, h = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    inside = (x > 0) & (x + w < width)
    characters = stats[inside & (h > 0.3 * height) & (h < 0.95 * height) & (h > 1.1 * w)]
    if not 4 <= len(characters) <= 10:
        return False
    heights, centres = characters[:, 3], characters[:, 1] + characters[:, 3] / 2
    if np.ptp(heights) > 0.35 * np.median(heights) or np.ptp(centres) > 0.3 * np.median(heights):
        return False
    span = (characters[:, 0] + characters[:, 2]).max() - characters[:, 0].min()
    return bool(span > 0.5 * width and (binary == 0).mean() > 0.4)


def _plates(image: np.ndarray) -> list[tuple]:
    """Plate-shaped light rectangles (white, or yellow as on UK rear plates) — 2 to 6.5 times
    as wide as high, filled, tilted at most 30° — that read as a row of characters."""
    found = []
    for edge in (1000, 2000):
        small = _small(image, edge)
        width = small.shape[1]
        scale = image.shape[1] / width
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        hue, saturation, value = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
        yellow = (hue >= 15) & (hue <= 35) & (saturation > 90) & (value > 120)
        white = (saturation < 50) & (value > 150)
        # Closing joins the plate's background across its characters.
        k = max(3, edge // 300)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3 * k, k))
        for mask in (yellow, white):
            closed = cv2.morphologyEx(mask.astype(np.uint8) * 255, cv2.MORPH_CLOSE, kernel)
            contours = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
            for contour in contours:
                area = cv2.contourArea(contour)
                if area < 150:
                    continue
                (cx, cy), (long, short), angle = cv2.minAreaRect(contour)
                if long < short:
                    long, short, angle = short, long, angle + 90
                angle = angle - 180 if angle > 45 else angle
                if short < 8 or not 2.0 <= long / short <= 6.5 or abs(angle) > 30:
                    continue
                if area / (long * short) < 0.7 or long > 0.4 * width:
                    continue
                reach = int(long / 2 + short) + 2
                x0, y0 = max(0, int(cx) - reach), max(0, int(cy) - reach)
                local = gray[y0 : int(cy) + reach, x0 : int(cx) + reach]
                turn = cv2.getRotationMatrix2D((cx - x0, cy - y0), angle, 1.0)
                level = cv2.warpAffine(local, turn, (local.shape[1], local.shape[0]))
                left, top = int(cx - x0 - long / 2), int(cy - y0 - short / 2)
                plate = level[max(0, top) : top + int(short), max(0, left) : left + int(long)]
                if _reads_as_plate(plate):
                    x, y, w, h = cv2.boundingRect(contour)
                    found.append(tuple(int(v * scale) for v in (x, y, w, h)))
    return found


def detect_private_regions(image: np.ndarray, *, faces: bool, plates: bool) -> list[tuple]:
    """(x, y, w, h) boxes of faces and licence plates, in full-resolution pixels; a box mostly
    inside one already found (the same plate seen at two scales) is left out."""
    boxes: list[tuple] = []
    for box in (_faces(image) if faces else []) + (_plates(image) if plates else []):
        x, y, w, h = box
        if not any(
            max(0, min(x + w, bx + bw) - max(x, bx)) * max(0, min(y + h, by + bh) - max(y, by))
            > 0.5 * w * h
            for bx, by, bw, bh in boxes
        ):
            boxes.append(box)
    return boxes


@operation(
    "privacy_blur",
    summary="Blur faces (dlib HOG), licence plates and any regions you mark.",
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
    size=Param(
        float,
        0.04,
        0.01,
        0.3,
        help="Text height (or ¼ logo width) as a share of the short edge; shrunk to fit.",
    ),
)
def watermark(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    height, width = image.shape[:2]
    # Sized from the short edge (a portrait photo is as narrow as a landscape one is low) and
    # shrunk to the width inside the margins: the mark is never cut.
    margin = int(min(width, height) * 0.03)
    room = max(8, width - 2 * margin)
    if params["use_logo"] and context.logo is not None:
        mark = context.logo.convert("RGBA")
        target_w = min(room, max(8, int(min(width, height) * params["size"] * 4)))
        mark = mark.resize((target_w, max(1, int(mark.height * target_w / mark.width))))
    else:
        text = params["text"] or context.watermark_text
        if not text:
            return image
        font_size = max(10, int(min(width, height) * params["size"]))
        mark = text_stamp(text, font_size)
        if mark.width > room:
            mark = text_stamp(text, max(6, int(font_size * room / mark.width)))
        if mark.width > room:  # the smallest legible font is still too wide: scale the stamp
            mark = mark.resize((room, max(1, round(mark.height * room / mark.width))))
    alpha = mark.getchannel("A").point(lambda a: int(a * params["opacity"]))
    mark.putalpha(alpha)
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
    summary=(
        "Crop to an aspect ratio (e.g. 3:2, 4:3, 16:9, 1:1) around the content or an edge; a photo "
        "of the other orientation can be letterboxed instead of losing half of itself."
    ),
    aspect=Param(str, "3:2", help="Width:height, e.g. 3:2."),
    gravity=Param(
        str, "content", choices=("content", "center", "top", "bottom", "left", "right"),
        help="Which part to keep; 'content' keeps the most detailed window.",
    ),
    other_orientation=Param(
        str, "letterbox", choices=("letterbox", "crop"),
        help="A portrait photo for a landscape aspect (or the reverse): pad it, or crop it.",
    ),
    max_cut=Param(
        float, 1.0, 0.0, 1.0,
        help="Largest share of the photo to cut away; the rest of the way to the aspect is padded.",
    ),
)  # fmt: skip
def crop(image: np.ndarray, params: dict, context: OperationContext) -> np.ndarray:
    try:
        ratio_w, ratio_h = (float(v) for v in params["aspect"].split(":"))
        ratio = ratio_w / ratio_h
    except (ValueError, ZeroDivisionError) as error:
        raise ValueError("aspect must look like 3:2") from error
    height, width = image.shape[:2]
    turned = (width < height and ratio > 1) or (width > height and ratio < 1)
    if turned and params["other_orientation"] == "letterbox":
        return letterbox(image, ratio)
    if width / height > ratio:
        new_w, new_h = round(height * ratio), height
    else:
        new_w, new_h = width, round(width / ratio)
    padded = 1 - new_w * new_h / (width * height) > params["max_cut"]
    if padded:
        keep = 1 - params["max_cut"]
        new_w, new_h = (
            (round(width * keep), height) if new_w < width else (width, round(height * keep))
        )
    gravity = params["gravity"]
    if gravity == "content":
        x0, y0 = _content_window(image, new_w, new_h)
    else:
        x0 = {"left": 0, "right": width - new_w}.get(gravity, (width - new_w) // 2)
        y0 = {"top": 0, "bottom": height - new_h}.get(gravity, (height - new_h) // 2)
    cropped = np.ascontiguousarray(image[y0 : y0 + new_h, x0 : x0 + new_w])
    return letterbox(cropped, ratio) if padded else cropped


def _content_window(image: np.ndarray, new_w: int, new_h: int) -> tuple[int, int]:
    """Top-left corner of the window holding the most detail (edge energy), centre-weighted so
    that an even photo is cut evenly."""
    height, width = image.shape[:2]
    small = _small(image, 256)
    scale = small.shape[1] / width
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    axis, span, full = (0, new_w, width) if new_w < width else (1, new_h, height)
    profile = energy.sum(axis=axis)
    window = max(1, round(span * scale))
    if window >= len(profile):
        return (width - new_w) // 2, (height - new_h) // 2
    sums = np.convolve(profile, np.ones(window), mode="valid")
    offsets = np.arange(len(sums)) - (len(sums) - 1) / 2
    sums = sums * (1 - 0.5 * (np.abs(offsets) / max(1, (len(sums) - 1) / 2)) ** 2)
    start = min(max(round(int(np.argmax(sums)) / scale), 0), full - span)
    return (start, (height - new_h) // 2) if axis == 0 else ((width - new_w) // 2, start)


def letterbox(image: np.ndarray, ratio: float) -> np.ndarray:
    """The whole photo centred on a canvas of the aspect ``ratio``, the bands filled with a
    blurred, dimmed copy of the photo (it reads as a frame, not as missing picture)."""
    height, width = image.shape[:2]
    if width / height < ratio:
        canvas_w, canvas_h = round(height * ratio), height
    else:
        canvas_w, canvas_h = width, round(width / ratio)
    # Blurred while tiny, then enlarged: the same soft backdrop at a fraction of the cost.
    thumbnail = cv2.resize(image, (max(1, 64 * canvas_w // max(canvas_w, canvas_h)),
                                   max(1, 64 * canvas_h // max(canvas_w, canvas_h))),
                           interpolation=cv2.INTER_AREA)  # fmt: skip
    thumbnail = cv2.convertScaleAbs(cv2.GaussianBlur(thumbnail, (0, 0), 2.0), alpha=0.55)
    canvas = cv2.resize(thumbnail, (canvas_w, canvas_h), interpolation=cv2.INTER_CUBIC)
    x0, y0 = (canvas_w - width) // 2, (canvas_h - height) // 2
    canvas[y0 : y0 + height, x0 : x0 + width] = image
    return canvas
