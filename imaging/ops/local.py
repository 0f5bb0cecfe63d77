"""Local operations: enhancement, geometry, HDR, branding and sizing (privacy blur: privacy.py).

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
_TOE = 0.08  # soft lower end of the tone curve: only what the sensor clipped ends at 0
# Highlight shoulder: above the knee the curve bends so that the brightest unclipped level
# (253) ends at 250 at most — a margin for sharpening and JPEG ringing: no new clipped pixels.
_KNEE, _LAST_UNCLIPPED, _TOP_OUT = 0.8, 253, 250
_OVEREXPOSED = 0.75  # mean luma above which a photo may be darkened
_NOISE_RISE = 1.15  # shadow noise may grow by this factor before lifted shadows are denoised
_SMOOTH_RESIDUAL = 0.3  # share of the noise the edge-preserving smooth copy still holds
_VISIBLE_NOISE = 0.8  # 8-bit high-pass noise that, once lifted, is worth denoising
_REC709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _stats_copy(image: np.ndarray) -> np.ndarray:
    """A copy about ``_STATS_EDGE`` px long, shrunk by a whole factor (OpenCV's fast area path)."""
    height, width = image.shape[:2]
    factor = max(1, math.ceil(max(height, width) / _STATS_EDGE))
    if factor == 1:
        return image
    h, w = height // factor, width // factor
    return cv2.resize(image[: h * factor, : w * factor], (w, h), interpolation=cv2.INTER_AREA)


def _neutral_gains(stats: np.ndarray) -> np.ndarray:
    """Channel gains that make the photo's near-neutral areas neutral.

    Candidates are lit, unclipped pixels that are nearly grey once balanced (walls, ceilings,
    white paint), refined from a grey-world start; a photo with too few of them is left alone.
    """
    ones = np.ones(3, dtype=np.float32)
    red, green, blue = stats[:, 0], stats[:, 1], stats[:, 2]
    brightest = np.maximum(np.maximum(red, green), blue)
    darkest = np.minimum(np.minimum(red, green), blue)
    usable = stats[(brightest < _NEAR_CLIP[0]) & (darkest > 20)]
    if len(usable) < _MIN_NEUTRAL_SHARE * len(stats):
        return ones
    means = usable.mean(axis=0)
    gains = np.clip(means.mean() / means, 0.8, 1.25)
    for _ in range(3):
        balanced = usable * gains
        off = np.abs(balanced / (balanced.sum(axis=1, keepdims=True) + 1e-3) - 1 / 3)
        # Column by column: NumPy's reductions along a 3-wide axis are several times slower.
        neutral = usable[np.maximum(np.maximum(off[:, 0], off[:, 1]), off[:, 2]) < _NEUTRAL_CHROMA]
        if len(neutral) < _MIN_NEUTRAL_SHARE * len(stats):
            return ones
        means = neutral.mean(axis=0)
        gains = np.clip(means.mean() / means, 0.7, 1.4).astype(np.float32)
    if gains[2] > gains[0]:  # the cast is warm (blue is being raised): keep part of it
        gains = 1 + (gains - 1) * (1 - _WARM_KEEP)
    return gains / gains.max() * min(1.0, float(gains.max()))


def _soft_ends(values: np.ndarray, bottom: float) -> np.ndarray:
    """Toe and shoulder of a tone curve (256 values; ``bottom`` is where level 0 landed).

    The toe maps [bottom, _TOE] smoothly onto [0, _TOE]. The shoulder bends everything above
    _KNEE with a rational curve — slope 1 at the knee, never flat — so that level 253 ends at
    _TOP_OUT: highlights are compressed, still distinct, and nothing unclipped is pushed to
    clipping; only 254 and 255 (what the sensor clipped) end at or above them.
    """
    result = values.copy()
    if bottom < _TOE:
        under = values < _TOE
        norm = 1 - math.exp(-(_TOE - bottom) / _TOE)
        result[under] = _TOE - _TOE * (1 - np.exp(-(_TOE - values[under]) / _TOE)) / norm
    end, top = _TOP_OUT / 255, float(values[_LAST_UNCLIPPED])
    if top > end:
        ratio = (top - _KNEE) / (end - _KNEE)
        over = values > _KNEE
        share = (values[over] - _KNEE) / (top - _KNEE)
        result[over] = _KNEE + (end - _KNEE) * share * ratio / (1 + (ratio - 1) * share)
    clipped = np.arange(_LAST_UNCLIPPED + 1, 256) / 255
    result[_LAST_UNCLIPPED + 1 :] = np.maximum(result[_LAST_UNCLIPPED + 1 :], clipped)
    return np.clip(result, 0, 1)


def _tone_curves(gains: np.ndarray, low: float, high: float, gamma: float) -> np.ndarray:
    """(256, 3) float curves: gain, stretch [low, high], gamma, then the soft ends."""
    ramp = np.arange(256, dtype=np.float32) / 255.0
    curves = np.empty((256, 3), dtype=np.float32)
    for channel in range(3):
        stretched = np.maximum((ramp * gains[channel] - low) / (high - low), 0)
        curves[:, channel] = _soft_ends(stretched**gamma, -low / (high - low))
    return curves


def _to_lut(curves: np.ndarray) -> np.ndarray:
    return np.clip(curves * 255 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, -1)


def _shadow_noise(image: np.ndarray) -> float:
    """Robust high-pass noise (8-bit units) in the dark quarter of the photo, measured on
    full-resolution tiles spread over the frame (a shrunk copy would average the noise away)."""
    height, width = image.shape[:2]
    tile = min(128, height // 4, width // 4)
    if tile < 8:  # a thumbnail: too small to tell noise from detail
        return 0.0
    samples = []
    for row in range(4):
        for column in range(4):
            y, x = (
                (2 * row + 1) * height // 8 - tile // 2,
                (2 * column + 1) * width // 8 - tile // 2,
            )
            gray = cv2.cvtColor(image[y : y + tile, x : x + tile], cv2.COLOR_RGB2GRAY)
            level = gray.astype(np.float32)  # a float blur: rounding would hide faint noise
            detail = level - cv2.GaussianBlur(level, (0, 0), 1.0)
            samples.append(np.abs(detail[gray < 64]))
    dark = np.concatenate(samples)
    if len(dark) < 500:
        return 0.0
    return float(np.median(dark) * 1.4826)


def _slopes(curves: np.ndarray) -> np.ndarray:
    """Slope of the mean tone curve at each input level, smoothed over ±8 levels."""
    level = np.pad(curves.mean(axis=1) * 255, 8, mode="edge")
    return np.gradient(np.convolve(level, np.ones(17) / 17, mode="valid"))


def _denoise_weights(slope: np.ndarray) -> np.ndarray:
    """Per original tone level, how far to pull towards the smooth copy: a lift of slope s
    multiplies shadow noise by s, so past _NOISE_RISE the pull cancels the excess."""
    excess = (slope - _NOISE_RISE) / (np.maximum(slope, 1e-3) * (1 - _SMOOTH_RESIDUAL))
    shadows = np.clip((112 - np.arange(256)) / 48, 0, 1)  # shadows only: mid-tones stay crisp
    return np.clip(excess, 0, 0.9) * shadows


@operation(
    "auto_enhance",
    summary=(
        "Exposure, white balance, contrast, vibrance and sharpening measured from the photo; "
        "highlights are compressed, never clipped, clipped ones stay neutral; shadows are "
        "denoised as they are lifted."
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
    """Statistics on a small copy; at full resolution one 8-bit LUT, then (when asked) one
    YCrCb pass for vibrance, sharpening and shadow denoising, all in ``uint8``/``int16``."""
    strength = params["strength"]
    if strength == 0:
        return image
    small = _stats_copy(image)
    stats = small.reshape(-1, 3).astype(np.float32)
    histograms = np.stack([np.bincount(small[:, :, c].ravel(), minlength=256) for c in range(3)])
    histograms = histograms / len(stats)

    gains = _neutral_gains(stats) if params["white_balance"] else np.ones(3, dtype=np.float32)
    warmth = params["warmth"] * 0.08
    gains = gains * np.array([1 + warmth, 1.0, 1 - warmth], dtype=np.float32)
    gains = 1 + (gains - 1) * strength

    # einsum, not ``@``: a matrix product goes to OpenBLAS, whose threads spin on the other
    # worker's core.
    mean_before = float(np.einsum("cv,v,c->", histograms, np.arange(256) / 255, _REC709))
    luma = np.einsum("pc,c->p", np.clip(stats * gains / 255.0, 0, 1), _REC709)
    low, high = np.percentile(luma, [0.5, 99.5])
    low, high = low * params["contrast"], 1 - (1 - high) * params["contrast"]
    if high - low < 0.05:
        low, high = 0.0, 1.0
    stretched_median = float(np.clip((np.median(luma) - low) / (high - low), 0.02, 0.98))
    gamma = math.log(params["brightness"]) / math.log(stretched_median)
    gamma = float(np.clip(gamma, 0.35, 2.5)) ** strength
    low, high = low * strength, 1 - (1 - high) * strength

    def mean_after(g: float) -> float:  # from the channel histograms: no pass over pixels
        return float(np.einsum("cv,vc,c->", histograms, _tone_curves(gains, low, high, g), _REC709))

    # Never darken a photo that is not over-exposed: brighten the curve until the mean holds.
    if mean_before <= _OVEREXPOSED:
        while gamma > 0.35 and mean_after(gamma) < mean_before + 0.5 / 255:
            gamma *= 0.97
    curves = _tone_curves(gains, low, high, gamma)
    result = cv2.LUT(image, _to_lut(curves))
    plain = _to_lut(_tone_curves(np.ones(3, np.float32), low, high, gamma)[:, :1])

    vibrance, sharpen = params["vibrance"] * strength, params["sharpen"] * strength
    denoise = _denoise_weights(_slopes(curves))
    # Noise-aware: a clean photo's shadows are not smoothed, however much they are lifted.
    noise = _shadow_noise(image) if denoise.max() > 0.05 else 0.0
    lift = float(np.interp(48, np.arange(256), curves.mean(axis=1) * 255) / 48)
    if noise * lift < _VISIBLE_NOISE:
        denoise = None
    if vibrance or sharpen or denoise is not None:
        _refine(image, result, vibrance, sharpen, denoise, noise * lift)
    # No new clipped pixels: whatever vibrance or sharpening pushed past the shoulder comes back.
    flat = result.reshape(result.shape[0], -1)
    cv2.min(flat, _TOP_OUT, dst=flat)
    _keep_highlights_neutral(image, result, plain)
    return result


def _refine(
    image: np.ndarray,
    result: np.ndarray,
    vibrance: float,
    sharpen: float,
    denoise: np.ndarray | None,
    noise: float,
) -> None:
    """Vibrance on chroma, sharpening on mid-tone luma, and lifted shadows pulled towards an
    edge-preserving smooth copy (bilateral at half size), in place; the original's tones
    decide where each applies."""
    ycrcb = cv2.cvtColor(result, cv2.COLOR_RGB2YCrCb)
    if vibrance:
        # Chroma distance from neutral, boosted most where colour is muted: greys stay grey.
        offset = np.arange(256, dtype=np.float32) - 128
        boosted = offset * (1 + vibrance * (1 - np.abs(offset) / 128) * 1.5)
        chroma = np.clip(boosted + 128.5, 0, 255).astype(np.uint8)
        identity = np.arange(256, dtype=np.uint8)
        cv2.LUT(ycrcb, np.stack([identity, chroma, chroma], axis=1).reshape(256, 1, 3), dst=ycrcb)
    if sharpen or denoise is not None:
        # Full-size buffers are reused (``dst=``): each fresh one costs page faults.
        luma = cv2.extractChannel(ycrcb, 0)
        tones = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        levels = np.arange(256, dtype=np.float32)
        other, weight, step = np.empty_like(luma), np.empty_like(luma), None
        if sharpen:
            # Mid-tones only: sharpened shadows are sharpened noise, sharpened highlights clip.
            where = np.clip((levels - 48) / 48, 0, 1) * np.clip((235 - levels) / 35, 0, 1)
            cv2.LUT(tones, (where * 255 + 0.5).astype(np.uint8), dst=weight)
            sigma = max(0.8, max(image.shape[:2]) / 3000)
            cv2.GaussianBlur(luma, (0, 0), sigma, dst=other)
            step = cv2.subtract(luma, other, dtype=cv2.CV_16S)
            cv2.multiply(step, weight, dst=step, scale=sharpen / 255, dtype=cv2.CV_16S)
            cv2.add(luma, step, dst=luma, dtype=cv2.CV_8U)
        if denoise is not None:
            smooth = cv2.bilateralFilter(cv2.pyrDown(luma), 5, float(np.clip(3 * noise, 2, 40)), 2)
            cv2.resize(smooth, luma.shape[::-1], dst=other, interpolation=cv2.INTER_LINEAR)
            cv2.LUT(tones, (denoise * 255 + 0.5).astype(np.uint8), dst=weight)
            step = cv2.subtract(other, luma, dst=step, dtype=cv2.CV_16S)
            cv2.multiply(step, weight, dst=step, scale=1 / 255, dtype=cv2.CV_16S)
            cv2.add(luma, step, dst=luma, dtype=cv2.CV_8U)
        cv2.insertChannel(luma, ycrcb, 0)
    cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB, dst=result)


_GATHER_SHARE = 0.08  # below this share of near-clipped pixels, they are handled one by one
_NEAR_RAMP = np.clip(
    (np.arange(256) - _NEAR_CLIP[0]) * 255 / (_NEAR_CLIP[1] - _NEAR_CLIP[0]), 0, 255
).astype(np.uint8)


def _keep_highlights_neutral(image: np.ndarray, result: np.ndarray, plain: np.ndarray) -> None:
    """Near-clipped pixels fade from the enhanced result to a neutral rendering: the tone curve
    alone (``plain``: no balance, no vibrance), with no more colour than scaling the pixel by
    the curve would give. A blown window or lamp stays white, a warm lamp stays as warm as it
    was. Few such pixels (the usual case) are gathered; many are done in boxes of rows."""
    # The brightest channel: a 3-wide dilation of the interleaved rows, read at each green.
    height, width = image.shape[:2]
    widest = cv2.dilate(image.reshape(height, width * 3), np.ones((1, 3), np.uint8))
    brightest = np.ascontiguousarray(widest[:, 1::3])
    # Grown by 2 px: JPEG's half-size chroma would otherwise bleed the colour of the pixels
    # around a blown area into it.
    keep = cv2.dilate(cv2.LUT(brightest, _NEAR_RAMP), np.ones((5, 5), np.uint8))
    count = cv2.countNonZero(keep)
    if not count:
        return
    levels = np.arange(_NEAR_CLIP[0], 256)
    scale = np.zeros(256, dtype=np.float32)  # curve(max) / max
    scale[_NEAR_CLIP[0] :] = plain.ravel()[levels] / levels
    if count < _GATHER_SHARE * keep.size:
        x, y = cv2.findNonZero(keep).reshape(-1, 2).T  # several times faster than NumPy's
        near = y.astype(np.int64) * width + x
        pixels, out = np.take(image.reshape(-1, 3), near, axis=0), result.reshape(-1, 3)
        curved = cv2.LUT(pixels.reshape(-1, 1, 3), plain).reshape(-1, 3)
        neutral = np.maximum(curved, pixels * scale[np.take(brightest, near)][:, None])
        weight = np.take(keep, near)[:, None] * np.float32(1 / 255)
        current = np.take(out, near, axis=0)
        out[near] = current + (neutral - current) * weight + 0.5
        return
    scale = np.clip(scale * 200 + 0.5, 0, 255).astype(np.uint8)  # in 1/200ths
    rows = np.flatnonzero(cv2.reduce(keep, 1, cv2.REDUCE_MAX).ravel())
    gaps = np.flatnonzero(np.diff(rows) > 16)  # bands of rows, apart by more than 16
    starts, ends = np.r_[rows[0], rows[gaps + 1]], np.r_[rows[gaps], rows[-1]] + 1
    for top, bottom in zip(starts, ends, strict=True):
        x, _, w, _ = cv2.boundingRect(keep[top:bottom])
        box = (slice(top, bottom), slice(x, x + w))
        source, out, weight = image[box], result[box], keep[box]
        factor = cv2.merge([cv2.LUT(brightest[box], scale)] * 3)
        neutral = cv2.max(cv2.LUT(source, plain), cv2.multiply(source, factor, scale=1 / 200))
        step = cv2.subtract(neutral, out, dtype=cv2.CV_16S)
        cv2.multiply(step, cv2.merge([weight] * 3), dst=step, scale=1 / 255, dtype=cv2.CV_16S)
        out[:] = cv2.add(out, step, dtype=cv2.CV_8U)


# --- straighten -----------------------------------------------------------------------------


_LINES_EDGE = 1200


def vertical_line_tilts(image: np.ndarray, max_angle: float) -> np.ndarray:
    """(tilt in degrees, x position 0..1, length, y position 0..1) of long near-vertical line
    segments of an RGB or grey image; lengths in pixels of the working copy (1200 px long edge).

    OpenCV's line segment detector (sub-pixel, no thresholds to tune per exposure) rather than a
    probabilistic Hough transform, whose angles are quantised and whose lines change when the
    tones do, on histogram-equalised grey: the same photo brightened shows the same lines (any
    monotonic tone curve gives the same equalised picture), before and after an enhancement.
    """
    small = _small(image, _LINES_EDGE)
    gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    gray = cv2.equalizeHist(gray)
    height, width = gray.shape
    lines = cv2.createLineSegmentDetector().detect(gray)[0]
    if lines is None:
        return np.empty((0, 4), dtype=np.float32)
    x1, y1, x2, y2 = (lines[:, 0, i].astype(np.float32) for i in range(4))
    flip = y2 < y1  # orient every segment bottom → top
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    tilt = np.degrees(np.arctan2(x2 - x1, y2 - y1))
    length = np.hypot(x2 - x1, y2 - y1)
    keep = (np.abs(tilt) <= max_angle * 1.5) & (length >= height / 10)
    centre, middle = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    return np.stack([tilt[keep], centre[keep], length[keep], middle[keep]], axis=1)


# Evidence straighten needs before it turns a photo: architecture gives several long lines spread
# across the frame that agree; a flower, a face or foliage does not.
_MIN_LINES = 6
_MIN_SPREAD = 0.4  # share of the width between the outermost lines
_MIN_TOTAL_LENGTH = 1.5  # summed line length, in frame heights
_MAX_DISAGREEMENT = 0.6  # degrees between estimates from two halves of the lines
_MIN_KEPT_AREA = 0.9
_CHECK_ANGLE = 6.0  # lines up to 1.5 × this are checked after a correction
_MIN_GAIN = 0.1  # degrees of lean a correction must remove to be worth its crop


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
    # The check sees every line a viewer reads as a vertical, also those past the correction's
    # own range: converging verticals at the edges lean 6–9° and must not get worse either.
    lines = vertical_line_tilts(image, max(params["max_angle"], _CHECK_ANGLE))
    segments = lines[np.abs(lines[:, 0]) <= params["max_angle"] * 1.5]
    roll, keystone = _correction(image.shape, segments, params)
    if abs(roll) < 0.05 and abs(keystone) < 0.1:
        return image
    # A smaller correction beats a larger crop, and none beats one that does not help: shrink it
    # until the crop keeps 90% of the area and the corrected frame leans less than the original.
    for share in np.linspace(1.0, 0.1, 10):
        transform = _lean_transform(width, height, roll * share, keystone * share)
        window = _valid_window(transform, width, height)
        if window is None or _kept_share(transform, window, width, height) < _MIN_KEPT_AREA:
            continue
        if _leans_less(image, lines, transform, window):
            break
    else:
        return image
    warped = cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    x0, y0, crop_w, crop_h = window
    return np.ascontiguousarray(warped[y0 : y0 + crop_h, x0 : x0 + crop_w])


def _kept_share(transform: np.ndarray, window: tuple, width: int, height: int) -> float:
    """Share of the original's area inside the crop window, measured in the original: a
    keystone stretches the frame, so the window's own size would overstate it."""
    x0, y0, w, h = window
    corners = np.float32([[[x0, y0]], [[x0 + w, y0]], [[x0 + w, y0 + h]], [[x0, y0 + h]]])
    source = cv2.perspectiveTransform(corners, np.linalg.inv(transform))
    return float(cv2.contourArea(source)) / (width * height)


def _leans_less(
    image: np.ndarray, segments: np.ndarray, transform: np.ndarray, window: tuple
) -> bool:
    """Whether the corrected, cropped frame leans less than the original did over the same part.

    Checked twice: the original's lines carried through the warp itself (not the straight-line
    model the correction was fitted with) must lean at least _MIN_GAIN less, and the lines found
    again on a corrected working copy must lean no more — a correction the photo does not bear
    out is not made.
    """
    height, width = image.shape[:2]
    small = _small(image, _LINES_EDGE)
    scale = small.shape[1] / width
    half = segments[:, 2] / scale / 2
    tilt = np.radians(segments[:, 0])
    centre = np.stack([segments[:, 1] * width, segments[:, 3] * height], axis=1)
    reach = np.stack([np.sin(tilt) * half, np.cos(tilt) * half], axis=1)
    ends = np.stack([centre - reach, centre + reach], axis=1).astype(np.float32)
    carried = cv2.perspectiveTransform(ends.reshape(-1, 1, 2), transform).reshape(-1, 2, 2)
    x0, y0, w, h = window
    middle = carried.mean(axis=1)
    kept = (middle[:, 0] >= x0) & (middle[:, 0] <= x0 + w)
    kept &= (middle[:, 1] >= y0) & (middle[:, 1] <= y0 + h)
    if kept.sum() < _MIN_LINES:
        return False
    vector = carried[kept, 1] - carried[kept, 0]
    weight = segments[kept, 2]
    before = weighted_median(np.abs(segments[kept, 0]), weight)
    after = weighted_median(np.abs(np.degrees(np.arctan2(vector[:, 0], vector[:, 1]))), weight)
    if after > before - _MIN_GAIN:
        return False
    to_small = np.diag([scale, scale, 1.0])
    warped = cv2.warpPerspective(
        small, to_small @ transform @ np.linalg.inv(to_small), (small.shape[1], small.shape[0]),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    sx, sy, sw, sh = (round(v * scale) for v in window)
    found = vertical_line_tilts(warped[sy : sy + sh, sx : sx + sw], _CHECK_ANGLE)
    if len(found) < 3:
        return False
    return weighted_median(np.abs(found[:, 0]), found[:, 2]) <= before


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
