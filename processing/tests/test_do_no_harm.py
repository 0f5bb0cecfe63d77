"""The do-no-harm rules of the enhancement operations, on real photos (issue 14): a preset may leave
a photo as it was, never make it worse."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from conftest import CAMERA_JPEG, INTERIOR, SHARED_DATA, require_shared
from imaging import decode
from imaging.engine import run_pipeline
from imaging.ops import REGISTRY, OperationContext, validate_operations
from imaging.ops.local import vertical_line_tilts, weighted_median
from imaging.ops.privacy import detect_private_regions
from processing.services import PRESETS_FILE

LISTING = SHARED_DATA / "listing"
LABELS = Path(settings.BASE_DIR) / "bench" / "quality_labels.json"


def photo(path: Path) -> np.ndarray:
    data = require_shared(path).read_bytes()
    return np.ascontiguousarray(decode.decode_upright(data, max_pixels=10**9)[0].convert("RGB"))


def apply(name: str, image: np.ndarray, **params) -> np.ndarray:
    cleaned, errors = REGISTRY[name].clean(params)
    assert not errors, errors
    return REGISTRY[name].function(image, cleaned, OperationContext())


def preset(slug: str, image: np.ndarray) -> np.ndarray:
    presets = {p["slug"]: p for p in json.loads(PRESETS_FILE.read_text())}
    encoded = run_pipeline(
        image, validate_operations(presets[slug]["operations"]), OperationContext()
    )
    return np.asarray(Image.open(io.BytesIO(encoded.data)).convert("RGB"))


def lean(image: np.ndarray) -> float:
    """Length-weighted median |tilt| of the near-vertical lines (the benchmark's measure)."""
    segments = vertical_line_tilts(image, 6.0)
    return weighted_median(np.abs(segments[:, 0]), segments[:, 2])


def mean_luma(image: np.ndarray) -> float:
    return float((image.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722])).mean())


@pytest.mark.parametrize(
    "path",
    [
        LISTING / "tungsten" / "candlelit-table_panasonic-lc33.jpg",  # glasses: short verticals
        SHARED_DATA / "orientation" / "Landscape_1.jpg",  # a waterfall: streaks, no building
    ],
    ids=["close-up", "landscape"],
)
def test_a_photo_without_architecture_is_not_turned(path):
    image = photo(path)
    assert np.array_equal(apply("straighten", image, max_angle=6.0), image)
    assert preset("natural", image).shape == image.shape  # natural straightens: not here


def test_a_tilted_building_is_levelled_within_the_crop_budget():
    facade = photo(LISTING / "exteriors" / "suburban-houses-sky_dillon-kydd.jpg")
    height, width = facade.shape[:2]
    turned = cv2.warpAffine(
        facade, cv2.getRotationMatrix2D((width / 2, height / 2), 2.0, 1.0), (width, height)
    )
    # Cut away the corners the turn left empty: a real photo taken 2° off level.
    tilted = np.ascontiguousarray(turned[height // 10 : -height // 10, width // 10 : -width // 10])
    assert lean(tilted) > 1.5

    straight = apply("straighten", tilted, max_angle=6.0)
    assert straight.size >= 0.9 * tilted.size
    assert lean(straight) < lean(tilted) - 1.0


@pytest.mark.parametrize(
    "path",
    [
        LISTING / "verticals" / "low-angle-modern-building_luke-van-zyl.jpg",
        LISTING / "verticals" / "skyscraper-from-below_canon-a85.jpg",
        LISTING / "verticals" / "courtyard-looking-straight-up_joakim-honkasalo.jpg",
        LISTING / "exteriors" / "brick-house-blue-sky_james-feaver.jpg",
    ],
    ids=lambda path: path.stem.split("_")[0],
)
def test_straighten_never_makes_a_real_building_lean_more(path):
    image = photo(path)
    straight = apply("straighten", image, max_angle=4.0)
    assert straight.size >= 0.9 * image.size
    assert lean(straight) <= lean(image) + 0.1


@pytest.mark.parametrize(
    "path",
    [
        LISTING / "windows" / "livingroom-fireplace-blown-windows_francesca-tosolini.jpg",
        LISTING / "windows" / "museum-court-glass-roof_nikon-e5700.jpg",
        LISTING / "tungsten" / "palace-salon-chandeliers_wiesbaden.jpg",
    ],
    ids=lambda path: path.parent.name + "/" + path.stem.split("_")[0],
)
def test_white_balance_leaves_clipped_highlights_neutral(path):
    image = photo(path)
    clipped = image.min(axis=2) >= 254  # blown white in every channel
    assert clipped.sum() > 1000
    balanced = apply("auto_enhance", image, strength=1.0, warmth=0.0)
    spread = balanced[clipped].max(axis=1).astype(int) - balanced[clipped].min(axis=1)
    assert np.percentile(spread, 99) <= 2


def test_a_warm_room_stays_warmer_than_grey():
    salon = photo(LISTING / "tungsten" / "palace-salon-chandeliers_wiesbaden.jpg")
    balanced = apply("auto_enhance", salon, strength=1.0, warmth=0.0)
    red, _, blue = balanced.reshape(-1, 3).astype(np.float32).mean(axis=0)
    original_red, _, original_blue = salon.reshape(-1, 3).astype(np.float32).mean(axis=0)
    assert 0 < red - blue < original_red - original_blue


@pytest.mark.parametrize(
    "path",
    [
        INTERIOR,
        SHARED_DATA / "interiors" / "kitchen.jpg",
        LISTING / "exteriors" / "monastery-facade-sky_samsung-j327t1.jpg",
    ],
    ids=lambda path: path.stem.split("_")[0],
)
def test_natural_never_darkens_a_well_exposed_photo(path):
    image = photo(path)
    assert 0.3 * 255 <= mean_luma(image) <= 0.75 * 255  # well exposed to begin with
    assert mean_luma(preset("natural", image)) >= mean_luma(image) - 0.5


def test_lifting_a_dark_photo_does_not_double_its_shadow_noise():
    dark = photo(LISTING / "brackets" / "merianos-oldhouse" / "OldHouse1.jpg")

    def shadow_noise(image: np.ndarray, mask: np.ndarray) -> float:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        detail = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
        return float(np.median(np.abs(detail[mask])) * 1.4826)

    shadows = cv2.cvtColor(dark, cv2.COLOR_RGB2GRAY) < 64
    assert shadows.mean() > 0.2
    bright = preset("bright-airy", dark)
    assert mean_luma(bright) > mean_luma(dark) + 20  # it was lifted
    assert shadow_noise(bright, shadows) <= 1.5 * shadow_noise(dark, shadows)


@pytest.mark.parametrize(
    "path",
    [
        INTERIOR,
        LISTING / "interiors" / "living-dining-kitchen_francesca-tosolini.jpg",
        LISTING / "interiors" / "office-iphone_IMG_1034.heic",
        LISTING / "tungsten" / "palace-salon-chandeliers_wiesbaden.jpg",
        CAMERA_JPEG,
    ],
    ids=lambda path: path.stem.split("_")[0],
)
def test_privacy_blur_puts_no_box_on_an_interior(path):
    assert detect_private_regions(photo(path), faces=True, plates=True) == []


def test_privacy_blur_finds_the_labelled_faces():
    name = "listing/faces/street-statue-tourists_minolta-dimage7.jpg"
    image = photo(SHARED_DATA / name)
    height, width = image.shape[:2]
    boxes = detect_private_regions(image, faces=True, plates=False)
    labelled = json.loads(LABELS.read_text())["photos"][name]["faces"]
    centres = [((x + w / 2) / width, (y + h / 2) / height) for x, y, w, h in boxes]
    found = [
        any(box[0] <= cx <= box[2] and box[1] <= cy <= box[3] for cx, cy in centres)
        for box in (item["box"] for item in labelled if item["required"])
    ]
    assert all(found)  # the two tourists facing the camera and the statue looking up
    for cx, cy in centres:  # and nothing that is not a face
        assert any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in (i["box"] for i in labelled))


@pytest.mark.parametrize("position", ["bottom-right", "top-left", "center"])
def test_a_long_watermark_fits_a_portrait_photo(position):
    portrait = photo(LISTING / "windows" / "museum-court-glass-roof_nikon-e5700.jpg")
    height, width = portrait.shape[:2]
    assert height > width
    text = "Agence Lumière Immobilier · 04 78 00 00 00 · lumiere-immo.fr"  # 59 characters
    marked = apply("watermark", portrait, text=text, position=position, opacity=1.0, size=0.06)
    changed = np.argwhere(np.abs(marked.astype(int) - portrait).max(axis=2) > 30)
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    margin = int(width * 0.03) - 2
    assert left >= margin and right <= width - margin  # never cut at either side
    assert top >= 0 and bottom < height
    assert right - left > 0.5 * width  # and still as large as the width allows


def test_encode_to_a_byte_limit_resizes_before_quality_drops_below_70():
    image = photo(CAMERA_JPEG)  # 12 MP
    started = time.process_time()
    encoded = apply("encode", image, format="jpeg", quality=90, max_bytes=1_000_000)
    cpu_seconds = time.process_time() - started
    assert len(encoded.data) <= 1_000_000
    assert encoded.quality >= 70
    assert encoded.width < image.shape[1]  # made smaller instead
    assert cpu_seconds < 1.0
