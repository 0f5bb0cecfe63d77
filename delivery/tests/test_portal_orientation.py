"""A portrait photo through every portal profile keeps all of itself (letterboxed to the portal's
aspect, never cut in half), and a photo smaller than a portal asks for is sent with a warning."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_DATA, shared_photo
from delivery.exports import portal_profiles
from delivery.tests.test_exports import wait_for_export

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]
PORTRAIT = SHARED_DATA / "listing" / "windows" / "museum-court-glass-roof_nikon-e5700.jpg"
SMALL = SHARED_DATA / "interiors" / "living-room.jpg"  # 1600×960


def export_one(api, project, photo_id: str, code: str, fetch) -> tuple[dict, Image.Image, bytes]:
    response = api.post(
        "/api/v1/exports/",
        {"project": str(project.id), "profile": code, "photos": [photo_id]},
        format="json",
    )
    assert response.status_code == 202, response.content
    export = wait_for_export(response.json()["id"])
    assert export.status == "succeeded", export.error_message
    body = api.get(f"/api/v1/exports/{export.id}/").json()
    status, _headers, data = fetch(body["url"])
    assert status == 200
    return body, Image.open(io.BytesIO(data)).convert("RGB"), data


@pytest.mark.parametrize("code", sorted(portal_profiles()))
def test_a_portrait_photo_keeps_all_of_itself_on_every_portal(
    code, api, project, upload, wait_for_ingest, fetch
):
    data = shared_photo(PORTRAIT)
    photo = wait_for_ingest(upload(data, PORTRAIT.name).json()["id"])
    profile = portal_profiles()[code]
    body, exported, content = export_one(api, project, str(photo.id), code, fetch)

    assert len(content) <= profile.max_bytes
    assert exported.width <= profile.max_width and exported.height <= profile.max_height
    source = Image.open(io.BytesIO(data)).convert("RGB")  # 1920×2560, no EXIF turn
    if not profile.aspect:
        # No aspect rule: the portrait stays portrait, whole.
        assert abs(exported.width / exported.height - source.width / source.height) < 0.01
        return
    ratio_w, ratio_h = (int(v) for v in profile.aspect.split(":"))
    assert abs(exported.width / exported.height - ratio_w / ratio_h) < 0.01
    # The photo's full height is there, centred between two bands; its whole width too.
    photo_width = round(exported.height * source.width / source.height)
    x0 = (exported.width - photo_width) // 2
    inside = np.asarray(exported.crop((x0 + 2, 0, x0 + photo_width - 2, exported.height)))
    expected = np.asarray(source.resize((photo_width, exported.height)))[:, 2:-2]
    assert np.abs(inside.astype(int) - expected).mean() < 8
    bands = np.asarray(exported.crop((0, 0, max(1, x0 - 2), exported.height))).astype(int)
    assert bands.mean() < np.asarray(source).mean()  # dimmed backdrop, not picture
    assert body["warnings"] == {}


def test_a_photo_smaller_than_the_portal_asks_is_sent_with_a_warning(
    api, project, upload, wait_for_ingest, fetch
):
    photo = wait_for_ingest(upload(shared_photo(SMALL), SMALL.name).json()["id"])
    body, exported, _ = export_one(api, project, str(photo.id), "rightmove", fetch)
    assert exported.size == (1440, 960)  # 3:2, never enlarged to 2048×1365
    warning = body["warnings"][str(photo.id)]
    assert "1440×960" in warning and "2048×1365" in warning and "Rightmove" in warning

    french = api.post(
        "/api/v1/exports/",
        {"project": str(project.id), "profile": "rightmove", "photos": [str(photo.id)]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "demandés par Rightmove" in french.json()["warnings"][str(photo.id)]
