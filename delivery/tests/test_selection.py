"""Exports and share links take the agent's selection, in listing order, without duplicates by
default; share links are listed and revoked; an agency's gallery carries its name and logo;
presets that cannot run here say why."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from PIL import Image

from accounts.tests.factories import AgencyFactory, MembershipFactory, UserFactory
from billing.tests.factories import SubscriptionFactory
from conftest import jpeg_bytes
from delivery.models import Export, ShareLink
from projects.models import Photo
from projects.tests.factories import ProjectFactory

# Exports are a paid feature: the test user is on Premium.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]


@pytest.fixture
def rooms(api, project, ready_photos):
    """Three ready photos labelled by room, in the listing order Chambre, Salon, Cuisine."""
    ids = ready_photos(3)
    for photo_id, room in zip(ids, ("Salon", "Cuisine", "Chambre"), strict=True):
        response = api.patch(f"/api/v1/photos/{photo_id}/", {"room_label": room}, format="json")
        assert response.status_code == 200
    salon, cuisine, chambre = ids
    response = api.post(
        f"/api/v1/projects/{project.id}/order", {"photos": [chambre, salon, cuisine]}, format="json"
    )
    assert response.status_code == 200
    return {"Salon": salon, "Cuisine": cuisine, "Chambre": chambre}


def wait_for_export(export_id: str) -> Export:
    deadline = time.monotonic() + 120
    while (export := Export.objects.get(id=export_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return export


def gallery_rooms(url: str) -> list[str]:
    html = Client().get(url.removeprefix("http://testserver")).content.decode()
    return re.findall(r'<img src="[^"]+" alt="([^"]+)"', html)


def share(api, project, **body) -> dict:
    response = api.post(f"/api/v1/projects/{project.id}/share-links/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Exports ------------------------------------------------------------------------------


def test_export_of_a_selection_is_built_in_listing_order(api, project, rooms, fetch):
    # Sent in another order: built in the listing order (Salon before Cuisine).
    response = api.post(
        "/api/v1/exports/",
        {
            "project": str(project.id),
            "profile": "leboncoin",
            "photos": [rooms["Cuisine"], rooms["Salon"]],
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["photos"] == 2
    export = wait_for_export(response.json()["id"])
    assert export.status == "succeeded", export.error_message
    assert export.photo_ids == [rooms["Salon"], rooms["Cuisine"]]
    _status, _headers, data = fetch(api.get(f"/api/v1/exports/{export.id}/").json()["url"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.namelist()) == 2


def test_export_without_a_selection_leaves_duplicates_out(
    api, project, rooms, upload, wait_for_ingest
):
    original = storages["originals"].open(Photo.objects.get(id=rooms["Salon"]).storage_key).read()
    copy = wait_for_ingest(upload(original, "salon-copy.jpg").json()["id"])
    assert str(copy.duplicate_of_id) == rooms["Salon"]

    response = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "leboncoin"}, format="json"
    )

    assert response.status_code == 202, response.content
    assert Export.objects.get().photo_ids == [rooms["Chambre"], rooms["Salon"], rooms["Cuisine"]]


def test_export_of_a_photo_of_another_project_is_refused(api, user, project, rooms, upload):
    other = ProjectFactory(owner=user)
    foreign = upload(jpeg_bytes(Image.new("RGB", (64, 48), "red")), project_id=other.id).json()
    response = api.post(
        "/api/v1/exports/",
        {"project": str(project.id), "profile": "leboncoin", "photos": [foreign["id"]]},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "photo_not_found",
        "message": "No such photo in this project.",
        "details": {"photos": [foreign["id"]]},
    }
    assert not Export.objects.exists()


# --- Share links --------------------------------------------------------------------------


def test_share_link_of_a_selection_shows_it_in_listing_order(api, project, rooms):
    link = share(api, project, photos=[rooms["Cuisine"], rooms["Chambre"]])
    assert sorted(link["photos"]) == sorted([rooms["Cuisine"], rooms["Chambre"]])
    assert gallery_rooms(link["url"]) == ["Chambre", "Cuisine"]


def test_share_link_without_a_selection_shows_every_photo_in_listing_order(api, project, rooms):
    link = share(api, project)
    assert link["photos"] == []
    assert gallery_rooms(link["url"]) == ["Chambre", "Salon", "Cuisine"]


def test_share_link_follows_a_later_reorder(api, project, rooms):
    link = share(api, project, photos=[rooms["Salon"], rooms["Cuisine"]])
    api.post(
        f"/api/v1/projects/{project.id}/order",
        {"photos": [rooms["Cuisine"], rooms["Salon"]]},
        format="json",
    )
    assert gallery_rooms(link["url"]) == ["Cuisine", "Salon"]


def test_share_link_selection_with_a_foreign_photo_is_refused(api, project, rooms, client_for):
    stranger = client_for(UserFactory())
    other = ProjectFactory(owner=UserFactory())
    response = api.post(
        f"/api/v1/projects/{project.id}/share-links/",
        {"photos": [rooms["Salon"], "00000000-0000-0000-0000-000000000000"]},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "photo_not_found"
    assert not ShareLink.objects.exists()
    assert stranger.get(f"/api/v1/projects/{project.id}/share-links/").status_code == 404
    assert api.get(f"/api/v1/projects/{other.id}/share-links/").status_code == 404


def test_share_links_are_listed_and_revoked(api, project, rooms, client_for):
    link = share(api, project)
    listed = api.get(f"/api/v1/projects/{project.id}/share-links/").json()
    assert [(item["id"], item["revoked"], item["view_count"]) for item in listed] == [
        (link["id"], False, 0)
    ]
    assert (
        client_for(UserFactory()).post(f"/api/v1/share-links/{link['id']}/revoke").status_code
        == 404
    )

    response = api.post(f"/api/v1/share-links/{link['id']}/revoke")

    assert response.status_code == 200
    assert response.json()["revoked"] is True
    assert api.get(f"/api/v1/projects/{project.id}/share-links/").json()[0]["revoked"] is True
    gone = Client().get(link["url"].removeprefix("http://testserver"))
    assert gone.status_code == 410
    assert "revoked" in gone.content.decode()


def test_revoked_gallery_in_french(api, project, rooms):
    link = share(api, project)
    api.post(f"/api/v1/share-links/{link['id']}/revoke")
    gone = Client().get(link["url"].removeprefix("http://testserver"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce lien de partage a été révoqué." in gone.content.decode()


# --- Branding -----------------------------------------------------------------------------


def test_agency_gallery_carries_the_agency_name_and_logo(client_for, fetch, upload):
    agent = UserFactory()
    agency = AgencyFactory(name="Immobilière des Pentes")
    MembershipFactory(user=agent, agency=agency, role="owner")
    SubscriptionFactory(agency=agency, plan_code="agency")  # branding is in the Agency plan
    logo = io.BytesIO()
    Image.new("RGB", (120, 40), "navy").save(logo, format="PNG")
    agency.logo_key = storages["originals"].save(
        f"agencies/{agency.id}/logo.png", ContentFile(logo.getvalue())
    )
    agency.save()
    project = ProjectFactory(owner=None, agency=agency, created_by=agent)
    api = client_for(agent)
    upload(jpeg_bytes(Image.new("RGB", (640, 480), "teal")), client=api, project_id=project.id)
    link = share(api, project)

    html = Client().get(link["url"].removeprefix("http://testserver")).content.decode()

    assert 'id="gallery-brand"' in html and "Immobilière des Pentes" in html
    logo_url = re.search(r'<img src="([^"]+)" alt="Immobilière des Pentes logo"', html).group(1)
    status, headers, data = fetch(logo_url)
    assert status == 200 and data == logo.getvalue()
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "image/png"


def test_gallery_of_a_personal_project_has_no_agency_branding(api, project, rooms):
    html = Client().get(share(api, project)["url"].removeprefix("http://testserver")).content
    assert b'id="gallery-brand"' not in html


# --- Presets that cannot run ------------------------------------------------------------------


def test_ai_presets_are_unavailable_without_a_provider(api, settings):
    settings.OPENAI_API_KEY = ""
    presets = {p["slug"]: p for p in api.get("/api/v1/presets/").json()}
    staging = presets["virtual-staging-living-room"]
    assert staging["available"] is False
    assert "AI editing is not set up" in staging["unavailable_reason"]
    assert presets["natural"]["available"] is True
    assert presets["natural"]["unavailable_reason"] == ""

    french = api.get("/api/v1/presets/", HTTP_ACCEPT_LANGUAGE="fr").json()
    reason = next(p for p in french if p["slug"] == "virtual-staging-living-room")
    assert "La retouche par IA n’est pas configurée" in reason["unavailable_reason"]


def test_ai_presets_are_available_with_a_provider(api, settings):
    settings.OPENAI_API_KEY = "sk-test"
    presets = {p["slug"]: p for p in api.get("/api/v1/presets/").json()}
    assert presets["virtual-staging-living-room"]["available"] is True
    assert presets["virtual-staging-living-room"]["unavailable_reason"] == ""


def test_export_refusal_in_french(api, project, upload, wait_for_ingest):
    small = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (320, 240), "teal"))).json()["id"])
    response = api.post(
        "/api/v1/exports/",
        {"project": str(project.id), "profile": "leboncoin"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "export_not_allowed"
    assert error["message"] == "Ces photos ne peuvent pas partir telles quelles sur Leboncoin."
    assert error["details"][str(small.id)].startswith("ferait 320×240 ; Leboncoin exige au moins")
