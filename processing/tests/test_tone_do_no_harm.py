"""Do-no-harm rules of the tone side of the presets (issue 14), on real photos: highlights are
compressed, never pushed to clipping; clipped areas take no tint; "natural" never darkens a
photo with a bright sky; lifted shadows do not show their noise."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import CAMERA_JPEG, INTERIOR
from imaging.ops.local import _small
from processing.tests.test_do_no_harm import LISTING, apply, mean_luma, photo, preset

SKY = LISTING / "exteriors" / "houses-trees-sky_paul-kapischka.jpg"
WINDOWS = LISTING / "windows" / "livingroom-fireplace-blown-windows_francesca-tosolini.jpg"
GLASS_ROOF = LISTING / "windows" / "museum-court-glass-roof_nikon-e5700.jpg"
OVEREXPOSED = LISTING / "exteriors" / "white-building-overexposed_chuttersnap.jpg"
STREET = LISTING / "plates" / "street-parked-cars-uk-plates_christian-vasile.jpg"
DISPLAY_EDGE = 1600  # what a portal shows, and what bench/quality.py measures


def clipped_share(image: np.ndarray) -> float:
    return float((_small(image, DISPLAY_EDGE).max(axis=2) >= 254).mean())


def shadow_noise(image: np.ndarray, mask: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    return float(np.median(np.abs(detail[mask])) * 1.4826)


@pytest.mark.parametrize(
    "path", [SKY, WINDOWS, GLASS_ROOF, CAMERA_JPEG], ids=lambda path: path.stem.split("_")[0]
)
def test_a_strong_enhance_pushes_no_unclipped_pixel_to_clipping(path):
    image = photo(path)
    lifted = apply("auto_enhance", image, strength=1.0, brightness=0.65, vibrance=0.6, sharpen=1.5)
    assert mean_luma(lifted) > mean_luma(image)  # it did brighten
    newly_clipped = (lifted.max(axis=2) >= 254) & (image.max(axis=2) < 254)
    assert newly_clipped.sum() == 0
    # What the sensor clipped stays blown white, not turned grey.
    blown = image.min(axis=2) == 255
    assert np.percentile(lifted[blown].min(axis=1), 1) >= 254


@pytest.mark.parametrize(
    "path", [SKY, WINDOWS, INTERIOR, CAMERA_JPEG], ids=lambda path: path.stem.split("_")[0]
)
def test_bright_and_airy_adds_no_clipped_highlights(path):
    image = photo(path)
    assert clipped_share(preset("bright-airy", image)) <= clipped_share(image) + 0.001


@pytest.mark.parametrize("slug", ["natural", "bright-airy"])
def test_clipped_areas_of_an_overexposed_photo_take_no_tint(slug):
    image = photo(OVEREXPOSED)
    result = preset(slug, image)
    assert result.shape == image.shape

    def clipped_chroma(picture: np.ndarray, clipped: np.ndarray) -> float:
        lab = cv2.cvtColor(_small(picture, DISPLAY_EDGE), cv2.COLOR_RGB2LAB).astype(np.float32)
        return float(np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128)[clipped].mean())

    clipped = _small(image, DISPLAY_EDGE).max(axis=2) >= 250
    assert clipped.mean() > 0.05
    assert clipped_chroma(result, clipped) <= clipped_chroma(image, clipped) + 0.5


@pytest.mark.parametrize("path", [SKY, GLASS_ROOF], ids=lambda path: path.stem.split("_")[0])
def test_natural_never_darkens_a_photo_with_a_bright_sky(path):
    image = photo(path)
    assert mean_luma(image) <= 0.75 * 255  # bright, not over-exposed
    assert mean_luma(preset("natural", image)) >= mean_luma(image) - 0.5


@pytest.mark.parametrize("path", [CAMERA_JPEG, STREET], ids=["iphone-kitchen", "uk-street"])
def test_lifted_shadows_do_not_show_their_noise(path):
    image = photo(path)
    shadows = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) < 64
    assert shadows.mean() > 0.05
    bright = preset("bright-airy", image)
    assert mean_luma(bright) > mean_luma(image) + 20  # the shadows were lifted
    assert shadow_noise(bright, shadows) <= 1.35 * shadow_noise(image, shadows)
