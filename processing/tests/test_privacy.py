"""Privacy blur on real street photos (issue 14): every labelled face and plate is blurred, small
and turned ones included, and nothing else is (the interiors are in test_do_no_harm.py)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings

from conftest import SHARED_DATA, require_shared
from imaging import decode
from imaging.ops import REGISTRY, OperationContext
from imaging.ops.privacy import detect_private_regions

LABELS = json.loads((Path(settings.BASE_DIR) / "bench" / "quality_labels.json").read_text())
STATUE = "listing/faces/street-statue-tourists_minolta-dimage7.jpg"
UK_PLATES = "listing/plates/street-parked-cars-uk-plates_christian-vasile.jpg"


def photo(name: str) -> np.ndarray:
    data = require_shared(SHARED_DATA / name).read_bytes()
    return np.ascontiguousarray(decode.decode_upright(data, max_pixels=10**9)[0].convert("RGB"))


def labelled(name: str, kind: str, image: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    height, width = image.shape[:2]
    scale = [width, height, width, height]
    return [
        (np.array(item["box"]) * scale, item["required"]) for item in LABELS["photos"][name][kind]
    ]


def overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def blur(image: np.ndarray, **params) -> np.ndarray:
    cleaned, errors = REGISTRY["privacy_blur"].clean(params)
    assert not errors
    return REGISTRY["privacy_blur"].function(image, cleaned, OperationContext())


def detail(image: np.ndarray, box) -> float:
    """Sharpness in the middle of a box (characters, eyes and mouth; a drawn box also holds the
    plate's frame or the hair, and the mosaic's own edges)."""
    left, top, right, bottom = box
    x0, x1 = int(left + 0.2 * (right - left)), int(right - 0.2 * (right - left))
    y0, y1 = int(top + 0.2 * (bottom - top)), int(bottom - 0.2 * (bottom - top))
    gray = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def test_privacy_blur_finds_the_small_uk_plates_and_nothing_else():
    image = photo(UK_PLATES)
    plates = labelled(UK_PLATES, "plates", image)
    boxes = detect_private_regions(image, faces=False, plates=True)
    found = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    for d in found:
        assert any(overlap(d, box) >= 0.5 * area(d) for box, _ in plates)
    blurred = blur(image, faces=False)
    for box, required in plates:
        if required:  # about 100 × 30 px on a 3808 px photo
            assert sum(overlap(box, d) for d in found) >= 0.5 * area(box)
            assert detail(blurred, box) < 0.2 * detail(image, box)


def test_privacy_blur_mosaics_the_face_looking_up():
    image = photo(STATUE)
    blurred = blur(image, plates=False)
    statue = labelled(STATUE, "faces", image)[0][0]  # listed first
    assert detail(blurred, statue) < 0.1 * detail(image, statue)
    assert np.array_equal(blurred[-200:, :200], image[-200:, :200])  # the pavement is untouched
