"""Listing management on the project: order, room labels, delete, duplicates, and a page whose
query count does not grow with the photos."""

from __future__ import annotations

import json
import re
import uuid

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.tests.factories import UserFactory
from conftest import jpeg_bytes
from projects.models import Photo, PhotoVersion, Rendition
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


def listing_ids(api, project) -> list[str]:
    """The photo ids in the order the project page shows them."""
    html = api.get(f"/projects/{project.id}/").content.decode()
    return re.findall(r'<li class="tile" id="tile-[^"]+" data-photo="([^"]+)"', html)


# --- Order ------------------------------------------------------------------------------------


def test_order_sets_the_listing_order_of_the_page(api, project, ready_photos):
    first, second, third = ready_photos(3)
    assert listing_ids(api, project) == [first, second, third]  # upload order by default

    response = api.post(
        f"/api/v1/projects/{project.id}/order", {"photos": [third, first]}, format="json"
    )

    assert response.status_code == 200, response.content
    # The photos not named keep their order after the named ones.
    assert response.json()["photos"] == [third, first, second]
    assert listing_ids(api, project) == [third, first, second]
    assert list(
        Photo.objects.filter(project=project).order_by("position").values_list("id", flat=True)
    ) == [uuid.UUID(i) for i in (third, first, second)]


def test_a_photo_uploaded_after_ordering_comes_last(api, project, ready_photos):
    first, second = ready_photos(2)
    api.post(f"/api/v1/projects/{project.id}/order", {"photos": [second, first]}, format="json")
    (late,) = ready_photos(1, shade=0.8)
    assert listing_ids(api, project) == [second, first, late]


def test_order_refuses_photos_of_another_project(api, user, project, ready_photos, upload):
    (mine,) = ready_photos(1)
    other = ProjectFactory(owner=user)
    foreign = upload(jpeg_bytes(Image.new("RGB", (64, 48), "teal")), project_id=other.id).json()[
        "id"
    ]

    response = api.post(
        f"/api/v1/projects/{project.id}/order", {"photos": [foreign, mine]}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "photo_not_found"
    assert response.json()["error"]["details"]["photos"] == [foreign]
    assert Photo.objects.get(id=mine).position is None


@pytest.mark.parametrize("body", [{"photos": ["not-a-uuid"]}, {"photos": "abc"}, {}])
def test_order_with_bad_input_is_a_400(api, project, body):
    response = api.post(f"/api/v1/projects/{project.id}/order", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "photos" in response.json()["error"]["details"]


def test_order_twice_the_same_photo_is_refused(api, project, ready_photos):
    (photo,) = ready_photos(1)
    response = api.post(
        f"/api/v1/projects/{project.id}/order", {"photos": [photo, photo]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_photo"


def test_order_of_someone_elses_project_is_a_404(project, client_for, ready_photos):
    (photo,) = ready_photos(1)
    stranger = client_for(UserFactory())
    response = stranger.post(
        f"/api/v1/projects/{project.id}/order", {"photos": [photo]}, format="json"
    )
    assert response.status_code == 404
    assert Photo.objects.get(id=photo).position is None


# --- Room label -------------------------------------------------------------------------------


def test_room_label_is_set_trimmed_and_shown(api, project, ready_photos):
    (photo,) = ready_photos(1)
    response = api.patch(f"/api/v1/photos/{photo}/", {"room_label": "  Cuisine  "}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["room_label"] == "Cuisine"
    assert Photo.objects.get(id=photo).room_label == "Cuisine"
    assert 'value="Cuisine"' in api.get(f"/projects/{project.id}/").content.decode()


def test_room_label_longer_than_60_is_refused(api, ready_photos):
    (photo,) = ready_photos(1)
    response = api.patch(f"/api/v1/photos/{photo}/", {"room_label": "x" * 61}, format="json")
    assert response.status_code == 400
    assert "room_label" in response.json()["error"]["details"]
    assert Photo.objects.get(id=photo).room_label == ""


def test_room_label_of_someone_elses_photo_is_a_404(ready_photos, client_for):
    (photo,) = ready_photos(1)
    response = client_for(UserFactory()).patch(
        f"/api/v1/photos/{photo}/", {"room_label": "Salon"}, format="json"
    )
    assert response.status_code == 404
    assert Photo.objects.get(id=photo).room_label == ""


# --- Delete, duplicates, tiles ----------------------------------------------------------------


def test_delete_a_ready_photo_from_its_tile(api, project, ready_photos):
    kept, deleted = ready_photos(2)
    page = api.get(f"/projects/{project.id}/").content.decode()
    assert f'data-api="/api/v1/photos/{deleted}/"' in page  # the tile's delete form

    assert api.delete(f"/api/v1/photos/{deleted}/").status_code == 204
    assert listing_ids(api, project) == [kept]


def test_duplicates_are_marked_hidden_with_a_toggle(api, project, upload, wait_for_ingest):
    data = jpeg_bytes(Image.new("RGB", (320, 240), "orange"))
    original = wait_for_ingest(upload(data, "a.jpg").json()["id"])
    copy = wait_for_ingest(upload(data, "a-copy.jpg").json()["id"])
    assert copy.duplicate_of_id == original.id

    html = api.get(f"/projects/{project.id}/").content.decode()
    tiles = dict(
        re.findall(r'data-photo="([^"]+)"[^>]*?( data-duplicate="true")?\sdraggable', html)
    )
    assert tiles == {str(original.id): "", str(copy.id): ' data-duplicate="true"'}
    assert 'id="show-duplicates"' in html
    assert "Show duplicates (1)" in html


def test_ready_tiles_have_a_checkbox_labelled_with_the_photo(api, project, ready_photos):
    (photo,) = ready_photos(1)
    tile = api.get(f"/projects/{project.id}/photos/{photo}/tile")
    assert tile.status_code == 200
    html = tile.content.decode()
    assert f'<input type="checkbox" class="pick" id="pick-{photo}" value="{photo}">' in html
    assert f'<label for="pick-{photo}">room-0.jpg</label>' in html
    assert 'aria-label="Move room-0.jpg earlier"' in html
    assert 'aria-label="Select"' not in html


def test_tile_of_another_users_photo_is_a_404(project, ready_photos, client_for):
    (photo,) = ready_photos(1)
    stranger = client_for(UserFactory())
    assert stranger.get(f"/projects/{project.id}/photos/{photo}/tile").status_code == 404
    assert stranger.get(f"/projects/{project.id}/photos/nonsense/tile").status_code == 404


def test_project_page_in_french(api, project, ready_photos):
    ready_photos(1)
    html = api.get(f"/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Choisir des photos" in html
    assert "Déplacer room-0.jpg plus tôt" in html
    strings = re.search(r'<script id="page-strings" type="application/json">(.*?)</script>', html)
    assert json.loads(strings.group(1))["offpeak_waiting"] == "En attente de la période creuse"


def test_file_input_has_a_visible_focusable_label(api, project):
    html = api.get(f"/projects/{project.id}/").content.decode()
    assert re.search(r'<input id="file-input"[^>]*type="file"', html)
    assert "hidden>" not in re.search(r'<input id="file-input"[^>]*>', html).group(0)
    assert '<label for="file-input" class="button choose-photos">Choose photos</label>' in html


# --- Query count ------------------------------------------------------------------------------


class _PhotoFactory(factory.django.DjangoModelFactory):
    """A ready photo with its renditions and one processed version, as ingest and a job leave
    it (the stored files are not needed to render the page: links are only signed)."""

    class Meta:
        model = Photo
        skip_postgeneration_save = True

    original_filename = factory.Sequence(lambda n: f"room-{n}.jpg")
    storage_key = factory.LazyAttribute(lambda p: f"{p.project.id}/{uuid.uuid4()}/original.jpg")
    bytes = 1000
    sha256 = factory.LazyFunction(lambda: uuid.uuid4().hex * 2)
    format = "JPEG"
    status = Photo.Status.READY
    width, height = 1600, 1200

    @factory.post_generation
    def stored(photo, create, extracted, **kwargs):
        for spec in ("thumbnail", "preview"):
            Rendition.objects.create(
                photo=photo, spec=spec, storage_key=f"{photo.id}/{spec}.webp", **_size()
            )
        version = PhotoVersion.objects.create(
            photo=photo, preset_name="Natural", storage_key=f"{photo.id}/v.jpg", **_size()
        )
        Rendition.objects.create(
            photo=photo,
            version=version,
            spec="thumbnail",
            storage_key=f"{photo.id}/v-thumb.webp",
            **_size(),
        )


def _size() -> dict:
    return {"format": "WEBP", "width": 400, "height": 300, "bytes": 100}


def _page_queries(api, project) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/projects/{project.id}/")
    assert response.status_code == 200
    return len(queries)


def test_project_page_query_count_does_not_grow_with_photos(api, user):
    small, large = ProjectFactory(owner=user), ProjectFactory(owner=user)
    _PhotoFactory.create_batch(5, project=small)
    _PhotoFactory.create_batch(60, project=large)

    api.get(f"/projects/{small.id}/")  # the session and per-user caches are warm from here
    assert _page_queries(api, small) == _page_queries(api, large)
    html = api.get(f"/projects/{large.id}/").content.decode()
    assert html.count('class="pick"') == 60


def test_dashboard_in_french_with_labelled_fields(api, project):
    html = api.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nouveau projet" in html and "0 photo" in html
    for field, label in (("id_name", "Nom du projet"), ("id_address", "Adresse (facultatif)")):
        assert f'<label for="{field}" class="visually-hidden">{label}</label>' in html
