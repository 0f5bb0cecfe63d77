"""Share links: a public gallery that expires, can be locked, revoked and counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from PIL import Image

from conftest import jpeg_bytes
from delivery.models import ShareLink
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gallery(upload, wait_for_ingest):
    return [
        wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (640, 480), colour))).json()["id"])
        for colour in ("teal", "orange")
    ]


def share(api, project, **body):
    response = api.post(f"/api/v1/projects/{project.id}/share-links/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_public_gallery_without_an_account_counts_views(api, project, gallery):
    link = share(api, project)
    assert link["password_protected"] is False and link["allow_download"] is False
    visitor = Client()
    page = visitor.get(path_of(link["url"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<img ") == 2 and "Download" not in html
    assert page["X-Robots-Tag"] == "noindex"
    visitor.get(path_of(link["url"]))
    assert ShareLink.objects.get().view_count == 2
    expires = timezone.datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < expires - timezone.now() <= timedelta(days=7)


def test_download_toggle(api, project, gallery):
    link = share(api, project, allow_download=True)
    assert Client().get(path_of(link["url"])).content.decode().count("Download") == 2


def test_password_protected_gallery(api, project, gallery):
    link = share(api, project, password="maison-2026")
    visitor = Client()
    locked = visitor.get(path_of(link["url"]))
    assert locked.status_code == 401 and "<img " not in locked.content.decode()
    wrong = visitor.post(path_of(link["url"]), {"password": "guess"})
    assert "not right" in wrong.content.decode()
    assert visitor.post(path_of(link["url"]), {"password": "maison-2026"}).status_code == 302
    assert visitor.get(path_of(link["url"])).content.decode().count("<img ") == 2
    for _ in range(5):
        Client().post(path_of(link["url"]), {"password": "guess"})
    blocked = Client().post(path_of(link["url"]), {"password": "maison-2026"})
    assert "Too many attempts" in blocked.content.decode()


def test_revoked_and_expired_links_are_gone(api, project, gallery):
    link = share(api, project, days=1)
    assert api.post(f"/api/v1/share-links/{link['id']}/revoke").json()["revoked"] is True
    assert Client().get(path_of(link["url"])).status_code == 410
    other = share(api, project, days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert Client().get(path_of(other["url"])).status_code == 410
    assert Client().get("/s/not-a-token/").status_code == 404


def test_only_the_projects_people_share_it(api, client_for):
    from accounts.tests.factories import UserFactory

    theirs = ProjectFactory()
    assert (
        api.post(f"/api/v1/projects/{theirs.id}/share-links/", {}, format="json").status_code == 404
    )
    link = ShareLink.objects.create(
        token="t", project=theirs, expires_at=timezone.now() + timedelta(days=1)
    )
    stranger = client_for(UserFactory())
    assert stranger.post(f"/api/v1/share-links/{link.id}/revoke").status_code == 404
    assert ShareLink.objects.get(pk=link.pk).revoked_at is None
