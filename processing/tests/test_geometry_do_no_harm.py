"""Geometry may only help (issue 14): straighten leaves the lines it kept leaning less or as they
were and keeps 90% of the photo, portal crops keep 90%, and the quality benchmark that judges this
sees a real lean and no lean from a tone change alone. Measured with the benchmark's own functions
(registration of the result on the original, the same lines before and after)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.quality import kept_share, line_tilts, register
from conftest import CAMERA_JPEG, INTERIOR
from processing.tests.test_do_no_harm import LISTING, apply, photo, preset

TILT_TOLERANCE = 0.1  # degrees, as the benchmark
KEPT_TOLERANCE = 0.002  # a crop rounded to whole pixels

BUILDINGS = [
    CAMERA_JPEG,  # the 12 MP kitchen straighten once turned past level
    INTERIOR,
    LISTING / "windows" / "museum-court-glass-roof_nikon-e5700.jpg",  # portrait, strong keystone
    LISTING / "verticals" / "low-angle-modern-building_luke-van-zyl.jpg",  # kept 87% once
    LISTING / "verticals" / "skyscraper-from-below_canon-a85.jpg",
]


def turned(image: np.ndarray, degrees: float) -> np.ndarray:
    """The photo taken ``degrees`` off level: turned, empty corners cut away."""
    height, width = image.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    rotated = cv2.warpAffine(image, rotation, (width, height))
    return np.ascontiguousarray(rotated[height // 10 : -height // 10, width // 10 : -width // 10])


def test_the_benchmark_sees_no_lean_from_a_tone_change_alone():
    room = photo(INTERIOR)
    brighter = preset("bright-airy", room)
    transform = register(room, brighter)
    assert np.array_equal(transform, np.eye(3))
    before, after, _, lines = line_tilts(room, brighter, transform)
    assert lines >= 6
    assert after == pytest.approx(before, abs=0.01)


def test_the_benchmark_reports_a_photo_made_to_lean_more():
    room = photo(INTERIOR)
    worse = turned(room, 1.5)
    transform = register(room, worse)
    before, after, seen, _ = line_tilts(room, worse, transform)
    assert after > before + 1.0
    assert seen > before + 1.0  # the detector on the result agrees
    assert kept_share(room, worse, transform) == pytest.approx(0.64, abs=0.01)


@pytest.mark.parametrize("max_angle", [4.0, 6.0])
@pytest.mark.parametrize("path", BUILDINGS, ids=lambda path: path.stem.split("_")[0])
def test_straighten_never_leaves_the_kept_lines_leaning_more(path, max_angle):
    image = photo(path)
    straight = apply("straighten", image, max_angle=max_angle)
    transform = register(image, straight)
    assert transform is not None
    assert kept_share(image, straight, transform) >= 0.9 - KEPT_TOLERANCE  # in the original's area
    before, after, _, _ = line_tilts(image, straight, transform)
    assert after <= before + TILT_TOLERANCE
    if straight.shape != image.shape:  # a crop is paid for with lines that lean less
        assert after < before - TILT_TOLERANCE / 2


def test_a_building_taken_off_level_is_straightened_and_leans_less():
    tilted = turned(photo(LISTING / "exteriors" / "brick-house-blue-sky_james-feaver.jpg"), -2.5)
    straight = apply("straighten", tilted, max_angle=6.0)
    transform = register(tilted, straight)
    assert kept_share(tilted, straight, transform) >= 0.9 - KEPT_TOLERANCE
    before, after, seen, _ = line_tilts(tilted, straight, transform)
    assert after < before - 1.0
    assert seen < before - 1.0


@pytest.mark.parametrize(
    "path",
    [INTERIOR, LISTING / "verticals" / "skyscraper-from-below_canon-a85.jpg"],
    ids=lambda path: path.stem.split("_")[0],
)
def test_the_portal_crop_keeps_ninety_percent_and_the_lines_as_they_were(path):
    image = photo(path)
    exported = preset("portal-export", image)
    transform = register(image, exported)
    assert kept_share(image, exported, transform) >= 0.9 - KEPT_TOLERANCE
    before, after, _, _ = line_tilts(image, exported, transform)
    assert after <= before + TILT_TOLERANCE
