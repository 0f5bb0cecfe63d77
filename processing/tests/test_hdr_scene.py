"""HDR merges take exposures of one scene: real brackets are merged, different rooms refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from billing.models import UsageCounter
from conftest import INTERIOR, SHARED_DATA, jpeg_bytes, require_shared, shared_photo
from imaging.scene import scene_outliers
from processing.models import Batch, Job

ROOMS = SHARED_DATA / "interiors"
BRACKETS = SHARED_DATA / "listing" / "brackets"


def rgb(path) -> np.ndarray:
    return np.asarray(Image.open(require_shared(path)).convert("RGB"))


def exposure(image: np.ndarray, gain: float, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The same view at another exposure (clipped as a sensor clips), moved a few pixels as a
    hand-held bracket is."""
    exposed = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return np.roll(exposed, shift, axis=(0, 1))


def bracket_of(path, gains=(0.4, 1.0, 2.2)) -> list[np.ndarray]:
    base = rgb(path)
    shifts = [(0, 0), (4, -6), (-5, 3)]
    return [exposure(base, gain, shift) for gain, shift in zip(gains, shifts, strict=True)]


# --- The measure, on arrays ------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["frobisher-interior-window", "merianos-oldhouse"])
def test_real_exposure_brackets_are_one_scene(folder):
    shots = [rgb(path) for path in sorted((BRACKETS / folder).glob("*.jpg"))]
    assert len(shots) == 3
    assert scene_outliers(shots) == []


@pytest.mark.parametrize("room", ["living-room.jpg", "kitchen.jpg", "bedroom.jpg"])
def test_one_photo_at_three_exposures_is_one_scene(room):
    assert scene_outliers(bracket_of(ROOMS / room)) == []


def test_three_different_rooms_are_not_one_scene():
    shots = [rgb(ROOMS / name) for name in ("bedroom.jpg", "kitchen.jpg", "living-room.jpg")]
    # No scene is shared: the middle shot (the one the result would belong to) is kept.
    assert scene_outliers(shots) == [0, 2]


def test_the_odd_shot_in_a_bracket_is_the_one_named():
    dark, _, bright = bracket_of(ROOMS / "living-room.jpg")
    kitchen = rgb(ROOMS / "kitchen.jpg")
    assert scene_outliers([dark, kitchen, bright]) == [1]
    assert scene_outliers([kitchen, dark, bright, exposure(rgb(ROOMS / "bedroom.jpg"), 0.8)]) == [
        0,
        3,
    ]


# --- Through the API -------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


def start_hdr(api, photos, **headers):
    return api.post(
        "/api/v1/jobs/",
        {"photos": photos, "preset": "hdr-interior", "bracket": True},
        format="json",
        **headers,
    )


def uploaded(upload, wait_for_ingest, images: list[tuple[str, bytes]]) -> list[str]:
    ids = []
    for name, data in images:
        response = upload(data, name)
        assert response.status_code == 201, response.content
        photo = wait_for_ingest(response.json()["id"])
        assert photo.status == "ready"
        ids.append(str(photo.id))
    return ids


def used(user) -> int:
    return sum(
        UsageCounter.objects.filter(subject=f"user:{user.id}").values_list("used", flat=True)
    )


@pytestmark_db
def test_real_brackets_are_accepted_and_merged(api, upload, wait_for_ingest, wait_for_job, user):
    shots = bracket_of(INTERIOR)
    photos = uploaded(
        upload,
        wait_for_ingest,
        [(f"living-{i}.jpg", jpeg_bytes(Image.fromarray(s))) for i, s in enumerate(shots)],
    )
    response = start_hdr(api, photos)
    assert response.status_code == 202, response.content
    (job,) = response.json()["jobs"]
    assert job["bracket"] == photos
    assert wait_for_job(job["id"]).status == "succeeded"
    assert used(user) > 0


@pytestmark_db
def test_different_rooms_are_refused_naming_the_odd_ones(api, upload, wait_for_ingest, user):
    rooms = ["bedroom.jpg", "kitchen.jpg", "living-room.jpg"]
    photos = uploaded(
        upload, wait_for_ingest, [(name, shared_photo(ROOMS / name)) for name in rooms]
    )
    response = start_hdr(api, photos)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "not_same_scene"
    assert "bedroom.jpg" in error["message"] and "living-room.jpg" in error["message"]
    assert "kitchen.jpg" not in error["message"]
    assert error["details"] == {"photos": [photos[0], photos[2]]}
    assert not Job.objects.exists() and not Batch.objects.exists()
    assert used(user) == 0

    french = start_hdr(api, photos, HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 422
    assert "ne montrent pas la même scène" in french.json()["error"]["message"]
    assert not Job.objects.exists() and used(user) == 0


@pytestmark_db
def test_one_stray_room_in_a_bracket_is_named(api, upload, wait_for_ingest, user):
    dark, _, bright = bracket_of(INTERIOR)
    photos = uploaded(
        upload,
        wait_for_ingest,
        [
            ("living-dark.jpg", jpeg_bytes(Image.fromarray(dark))),
            ("kitchen.jpg", shared_photo(ROOMS / "kitchen.jpg")),
            ("living-bright.jpg", jpeg_bytes(Image.fromarray(bright))),
        ],
    )
    response = start_hdr(api, photos)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "not_same_scene"
    assert error["message"].startswith("kitchen.jpg does not show the same scene")
    assert error["details"] == {"photos": [photos[1]]}
    assert not Job.objects.exists() and used(user) == 0
