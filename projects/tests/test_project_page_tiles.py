"""The project page's tiles: each shows the thumbnail of what its photo is delivered as (the same
signed link the API gives), labels in the reader's language with the photo's name escaped, and
links that refuse tampering while older links keep opening until they expire."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from PIL import Image

from conftest import jpeg_bytes
from projects.models import Photo, PhotoVersion, Rendition
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

WINDOW_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIZE = {"format": "WEBP", "width": 400, "height": 300, "bytes": 100}


def _photo(project, *, name: str = "kitchen.jpg", versions: int = 1, **fields) -> Photo:
    photo = Photo.objects.create(
        project=project,
        original_filename=name,
        storage_key=f"{project.id}/{uuid.uuid4()}/original.jpg",
        bytes=1000,
        sha256=uuid.uuid4().hex * 2,
        format="JPEG",
        status=Photo.Status.READY,
        width=1600,
        height=1200,
        **fields,
    )
    for spec in ("thumbnail", "preview"):
        Rendition.objects.create(
            photo=photo, spec=spec, storage_key=f"{photo.id}/{spec}.webp", **SIZE
        )
    for index in range(versions):
        version = PhotoVersion.objects.create(
            photo=photo,
            preset_name=f"Preset {index}",
            storage_key=f"{photo.id}/v{index}.jpg",
            **SIZE,
        )
        for spec in ("thumbnail", "preview"):
            Rendition.objects.create(
                photo=photo,
                version=version,
                spec=spec,
                storage_key=f"{version.id}/{spec}.webp",
                **SIZE,
            )
    return photo


def _tiles(html: str) -> dict[str, str]:
    """Each tile's markup by photo id."""
    return dict(re.findall(r'<li class="tile" id="tile-([^"]+)"(.*?)</li>', html, re.S))


def _thumbnail(tile: str) -> str:
    return html.unescape(re.search(r'<img src="([^"]+)"', tile).group(1))


def _api_thumbnail(api, photo: Photo, version: PhotoVersion | None) -> str:
    """The same link as the API's: pages keep local links relative, S3's are absolute anyway."""
    body = api.get(f"/api/v1/photos/{photo.id}/").json()
    if version is None:
        return body["urls"]["thumbnail"].removeprefix("http://testserver")
    (links,) = [v for v in body["versions"] if v["id"] == str(version.id)]
    return links["urls"]["thumbnail"].removeprefix("http://testserver")


def test_each_tile_shows_the_thumbnail_its_photo_is_delivered_as(api, user):
    project = ProjectFactory(owner=user)
    newest = _photo(project, name="newest.jpg", versions=2)
    chosen = _photo(project, name="chosen.jpg", versions=2)
    chosen.delivered_version = chosen.versions.get(preset_name="Preset 0")
    chosen.save()
    original = _photo(project, name="original.jpg", versions=1, deliver_original=True)
    unprocessed = _photo(project, name="unprocessed.jpg", versions=0)

    with time_machine.travel(WINDOW_START, tick=False):
        tiles = _tiles(api.get(f"/projects/{project.id}/").content.decode())
        expected = {
            newest: (newest.versions.get(preset_name="Preset 1"), "Preset 1"),
            chosen: (chosen.delivered_version, "Preset 0"),
            original: (None, "Ready"),
            unprocessed: (None, "Ready"),
        }
        for photo, (version, caption) in expected.items():
            tile = tiles[str(photo.id)]
            assert _thumbnail(tile) == _api_thumbnail(api, photo, version), photo.original_filename
            assert f'<span class="status-ready">{caption}</span>' in tile

        # The tile the page's scripts fetch alone is the same tile.
        single = api.get(f"/projects/{project.id}/photos/{chosen.id}/tile").content.decode()
        assert _thumbnail(_tiles(single)[str(chosen.id)]) == _thumbnail(tiles[str(chosen.id)])


def test_tile_labels_follow_the_language_and_escape_the_name(api, user):
    project = ProjectFactory(owner=user)
    photo = _photo(project, name='<b>"Salon"</b>.jpg')
    escaped = "&lt;b&gt;&quot;Salon&quot;&lt;/b&gt;.jpg"

    english = _tiles(api.get(f"/projects/{project.id}/").content.decode())[str(photo.id)]
    french = _tiles(
        api.get(f"/projects/{project.id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )[str(photo.id)]

    assert "<b>" not in english and "<b>" not in french
    assert f'aria-label="Move {escaped} earlier" title="Move earlier"' in english
    assert f'aria-label="Delete {escaped}">Delete</button>' in english
    assert f'aria-label="Déplacer {escaped} plus tôt" title="Déplacer plus tôt"' in french
    assert f'aria-label="Déplacer {escaped} plus tard"' in french
    assert f'aria-label="Supprimer {escaped}">Supprimer</button>' in french
    assert f'aria-label="Progression de {escaped}"' in french
    assert f'class="visually-hidden">Pièce montrée sur {escaped}</label>' in french
    assert 'placeholder="Pièce (ex. Cuisine)"' in french


@pytest.mark.skipif(
    settings.STORAGE_BACKEND == "s3", reason="the signed Django view serves local storage only"
)
@pytest.mark.django_db(transaction=True)  # the worker making the thumbnails reads the rows
def test_a_tile_thumbnail_opens_and_a_tampered_one_does_not(api, client, project, ready_photos):
    first, second = ready_photos(2)
    tiles = _tiles(api.get(f"/projects/{project.id}/").content.decode())
    link, other = _thumbnail(tiles[first]), _thumbnail(tiles[second])

    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"

    body, mac = link.rsplit("/", 1)[-1].split(".")
    other_body, other_mac = other.rsplit("/", 1)[-1].split(".")
    assert client.get(link.replace(mac, other_mac)).status_code == 403  # another link's seal
    assert client.get(link.replace(body, other_body)).status_code == 403
    assert client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 403
    assert client.get(link.replace(".", "")).status_code == 403


def test_links_signed_in_the_former_format_open_until_they_expire(client, project, upload):
    """An export's e-mailed link lives for days: a deploy must not break it."""
    photo = Photo.objects.get(
        id=upload(jpeg_bytes(Image.new("RGB", (64, 48), "teal"))).json()["id"]
    )
    former = signing.Signer(salt="photolisting.delivery")
    payload = {
        "s": "originals",
        "k": photo.storage_key,
        "t": "image/jpeg",
        "f": "a.jpg",
        "i": False,
    }

    with time_machine.travel(WINDOW_START, tick=False):
        live = former.sign_object(
            {**payload, "e": int(WINDOW_START.timestamp()) + 60}, compress=True
        )
        expired = former.sign_object(
            {**payload, "e": int(WINDOW_START.timestamp()) - 1}, compress=True
        )
        response = client.get(f"/files/{live}")
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="a.jpg"'
        assert client.get(f"/files/{expired}").status_code == 403
