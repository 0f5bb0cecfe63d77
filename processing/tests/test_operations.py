"""Each local operation does what it says, measured on real photos."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import CAMERA_JPEG, INTERIOR, shared_photo
from imaging.engine import run_pipeline
from imaging.ops import REGISTRY, OperationContext, operation_schemas, validate_operations
from imaging.ops.local import luminance
from photolisting.errors import ApplicationError


def interior(path=INTERIOR) -> np.ndarray:
    shared_photo(path)
    return np.asarray(Image.open(path).convert("RGB"))


def apply(name: str, image: np.ndarray, context: OperationContext | None = None, **params):
    cleaned, errors = REGISTRY[name].clean(params)
    assert not errors, errors
    return REGISTRY[name].function(image, cleaned, context or OperationContext())


def grey_world_error(image: np.ndarray) -> float:
    """How far the channel means are from each other (0 = neutral on average)."""
    means = image.reshape(-1, 3).astype(np.float32).mean(axis=0)
    return float(np.abs(means - means.mean()).mean() / means.mean())


class TestAutoEnhance:
    def dull_and_cast(self) -> tuple[np.ndarray, np.ndarray]:
        original = interior()
        # Underexposed by about 1.5 stops and shot under a blue-ish light.
        linear = (original / 255.0) ** 2.2 * 0.15
        cast = linear * np.array([0.8, 1.0, 1.3])
        dull = (np.clip(cast, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
        return original, dull

    def test_brightens_into_the_target_band_and_removes_the_cast(self):
        _, dull = self.dull_and_cast()
        assert np.median(luminance(dull)) < 0.3
        enhanced = apply("auto_enhance", dull, strength=1.0, brightness=0.46)

        assert 0.40 <= np.median(luminance(enhanced)) <= 0.52
        assert grey_world_error(enhanced) <= 0.5 * grey_world_error(dull)

    def test_strength_zero_changes_nothing(self):
        _, dull = self.dull_and_cast()
        assert np.array_equal(apply("auto_enhance", dull, strength=0.0), dull)

    def test_greys_stay_grey_under_vibrance(self):
        ramp = np.repeat(np.linspace(10, 245, 256, dtype=np.uint8)[None, :, None], 64, axis=0)
        grey = np.repeat(ramp, 3, axis=2)
        out = apply("auto_enhance", grey, white_balance=False, vibrance=1.0, sharpen=0.0)
        assert np.abs(out.astype(int) - out.mean(axis=2, keepdims=True)).max() <= 2


def facade(tilt_degrees: float) -> np.ndarray:
    """A building front: window columns and edges, turned by ``tilt_degrees``."""
    image = np.full((1200, 1600, 3), 205, np.uint8)
    for x in range(150, 1500, 220):
        cv2.rectangle(image, (x, 80), (x + 110, 1120), (60, 60, 70), thickness=-1)
    matrix = cv2.getRotationMatrix2D((800, 600), tilt_degrees, 1.0)
    return cv2.warpAffine(image, matrix, (1600, 1200), borderMode=cv2.BORDER_REPLICATE)


def measured_tilt(image: np.ndarray) -> float:
    """Tilt of the first dark column's left edge, fitted through its pixels row by row."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    height = gray.shape[0]
    rows = np.arange(int(height * 0.2), int(height * 0.8), 4)
    edges = [int(np.argmax(gray[row, 40:] < 130)) + 40 for row in rows]
    slope = np.polyfit(rows, edges, 1)[0]
    return math.degrees(math.atan(slope))


class TestStraighten:
    @pytest.mark.parametrize("tilt", [1.5, -2.0])
    def test_levels_a_tilted_building_within_half_a_degree(self, tilt):
        tilted = facade(tilt)
        assert abs(measured_tilt(tilted)) > abs(tilt) - 0.5
        straight = apply("straighten", tilted, max_angle=6.0)
        assert abs(measured_tilt(straight)) < 0.5

    @pytest.mark.parametrize("tilt", [3.0, -4.5])
    def test_a_larger_tilt_is_reduced_as_far_as_a_ten_percent_crop_allows(self, tilt):
        tilted = facade(tilt)
        straight = apply("straighten", tilted, max_angle=6.0)
        assert straight.shape[0] * straight.shape[1] >= 0.9 * tilted.shape[0] * tilted.shape[1]
        assert abs(measured_tilt(straight)) < abs(measured_tilt(tilted)) - 1.0
        assert np.sign(measured_tilt(straight)) == np.sign(measured_tilt(tilted))  # not past level

    def test_never_turns_more_than_max_angle(self):
        straight = apply("straighten", facade(4.0), max_angle=1.0, perspective=False)
        assert abs(measured_tilt(straight)) >= 4.0 - 1.0 - 0.1

    def test_corrects_converging_verticals(self):
        image = facade(0.0)
        height, width = image.shape[:2]
        # Keystone: the top is narrower, as when the camera points up at a building.
        source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        target = np.float32([[60, 0], [width - 60, 0], [width, height], [0, height]])
        leaning = cv2.warpPerspective(
            image, cv2.getPerspectiveTransform(source, target), (width, height),
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        assert abs(measured_tilt(leaning)) > 1.0
        assert abs(measured_tilt(apply("straighten", leaning))) < 0.5


def test_hdr_merge_reduces_clipping_against_the_middle_exposure():
    scene = (interior() / 255.0) ** 2.2
    shots = [
        (np.clip(scene * gain, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
        for gain in (0.4, 1.6, 5.0)
    ]

    def clipped(image):
        return float(((image.max(axis=2) >= 250) | (image.max(axis=2) <= 5)).mean())

    merged = apply("hdr_merge", shots[1], OperationContext(brackets=shots))
    assert merged.shape == shots[1].shape
    assert clipped(merged) < 0.5 * clipped(shots[1])


def test_privacy_blur_blurs_a_face_and_leaves_the_rest():
    from skimage import data

    portrait = np.ascontiguousarray(data.astronaut())
    from imaging.ops.privacy import detect_private_regions

    faces = detect_private_regions(portrait, faces=True, plates=False)
    assert faces, "the Haar cascade should find the astronaut's face"
    x, y, w, h = max(faces, key=lambda box: box[2] * box[3])
    blurred = apply("privacy_blur", portrait, plates=False)

    def sharpness(image):
        gray = cv2.cvtColor(image[y : y + h, x : x + w], cv2.COLOR_RGB2GRAY)
        return cv2.Laplacian(gray, cv2.CV_32F).var()

    assert sharpness(blurred) < 0.1 * sharpness(portrait)
    assert np.array_equal(blurred[-60:, -60:], portrait[-60:, -60:])


def test_privacy_blur_covers_marked_regions():
    image = interior()
    out = apply("privacy_blur", image, faces=False, plates=False, regions=[[0.1, 0.1, 0.3, 0.3]])
    height, width = image.shape[:2]
    inside = (
        slice(int(0.15 * height), int(0.25 * height)),
        slice(int(0.15 * width), int(0.25 * width)),
    )
    assert not np.array_equal(out[inside], image[inside])
    assert np.array_equal(out[int(0.6 * height) :], image[int(0.6 * height) :])


def test_watermark_marks_only_its_corner():
    image = interior()
    out = apply("watermark", image, text="Agence Lumière", position="bottom-right", opacity=0.8)
    height, width = image.shape[:2]
    assert not np.array_equal(
        out[int(height * 0.8) :, int(width * 0.6) :], image[int(height * 0.8) :, int(width * 0.6) :]
    )
    assert np.array_equal(out[: int(height * 0.5)], image[: int(height * 0.5)])


def test_watermark_falls_back_to_the_agency_text():
    image = interior()
    out = apply("watermark", image, OperationContext(watermark_text="Lyon Immo"))
    assert not np.array_equal(out, image)
    assert np.array_equal(apply("watermark", image), image)  # no text anywhere: unchanged


def test_resize_and_crop_geometry():
    image = interior()  # 1600×960
    assert apply("resize", image, long_edge=800).shape[:2] == (480, 800)
    assert apply("resize", image, long_edge=3200).shape[:2] == (960, 1600)  # no upscale
    assert apply("resize", image, width=800, height=800, fit="cover").shape[:2] == (800, 800)
    assert apply("resize", image, width=800, height=800).shape[:2] == (480, 800)
    assert apply("crop", image, aspect="3:2").shape[:2] == (960, 1440)
    assert apply("crop", image, aspect="1:1", gravity="left").shape[:2] == (960, 960)


@pytest.mark.parametrize("budget", [120_000, 400_000, 1_000_000])
def test_encode_always_meets_max_bytes(budget):
    image = np.asarray(Image.open(io.BytesIO(shared_photo(CAMERA_JPEG))).convert("RGB"))
    encoded = apply("encode", image, format="jpeg", quality=95, max_bytes=budget)
    assert len(encoded.data) <= budget
    assert Image.open(io.BytesIO(encoded.data)).size == (encoded.width, encoded.height)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_encode_formats(fmt):
    encoded = apply("encode", interior(), format=fmt, quality=70)
    decoded = Image.open(io.BytesIO(encoded.data))
    assert decoded.format == fmt.upper() and decoded.size == (1600, 960)


def test_ai_edited_results_are_disclosed_in_xmp_and_caption():
    image = interior()
    context = OperationContext(ai_operations=["virtual_staging"])
    plain = apply("encode", image, format="jpeg")
    disclosed = apply("encode", image, context, format="jpeg")
    assert b"compositeWithTrainedAlgorithmicMedia" in disclosed.data
    assert b"compositeWithTrainedAlgorithmicMedia" not in plain.data
    caption_area = np.asarray(Image.open(io.BytesIO(disclosed.data)))[-60:, :400].astype(int)
    assert (
        np.abs(caption_area - np.asarray(Image.open(io.BytesIO(plain.data)))[-60:, :400]).mean() > 2
    )


def test_invalid_operation_lists_are_refused_with_details():
    with pytest.raises(ApplicationError) as refused:
        validate_operations(
            [
                {"op": "auto_enhance", "params": {"strength": 3, "colour": 1}},
                {"op": "teleport"},
                {"op": "encode", "params": {"format": "gif"}},
                {"op": "crop"},
            ]
        )
    details = refused.value.details
    assert refused.value.code == "invalid_operations"
    assert details["0"]["params"]["strength"] == "must be at most 1.0"
    assert "colour" in details["0"]["params"]
    assert "unknown operation" in details["1"]["op"]
    assert "format" in details["2"]["params"]
    assert details["order"] == "'encode' must be the last step"


def test_schemas_list_every_operation():
    names = {schema["name"] for schema in operation_schemas()}
    assert {"auto_enhance", "straighten", "hdr_merge", "privacy_blur", "watermark", "resize", "crop", "encode",
            "virtual_staging", "declutter", "sky_replacement", "twilight"} <= names  # fmt: skip


def test_pipeline_without_encode_ends_as_jpeg():
    encoded = run_pipeline(
        interior(),
        validate_operations([{"op": "resize", "params": {"long_edge": 400}}]),
        OperationContext(),
    )
    assert (encoded.format, encoded.width) == ("JPEG", 400)
