"""What a share link hands out stops with it: its files go through the link, and its password
is long enough not to be guessed."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from delivery.tests.test_sharing import gallery, path_of, share  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def file_links(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/[^"]+)"', html)


def test_gallery_files_stop_working_when_the_link_is_revoked(api, project, gallery):  # noqa: F811
    link = share(api, project, allow_download=True)
    visitor = Client()
    html = visitor.get(path_of(link["url"])).content.decode()
    links = [url for url in file_links(html) if "/photos/" in url]
    assert len(links) == 6  # thumbnail, preview and download of two photos
    assert not [url for url in file_links(html) if url.startswith("/files/")]
    # The files are served by the gallery's own routes (from local storage or S3): no signed
    # link that could outlive the share link ever reaches the visitor.
    served = {}
    for url in links:
        response = visitor.get(url)
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        served[url] = b"".join(response.streaming_content)
        assert served[url][:4] in (
            b"RIFF",
            b"\xff\xd8\xff\xe0",
            b"\xff\xd8\xff\xe1",
            b"\xff\xd8\xff\xdb",
        )
        assert "Location" not in response
    downloads = [url for url in links if url.endswith("/download")]
    assert visitor.get(downloads[0])["Content-Disposition"].startswith("attachment")

    assert api.post(f"/api/v1/share-links/{link['id']}/revoke").status_code == 200
    assert {visitor.get(url).status_code for url in links} == {410}


def test_gallery_files_need_the_password_and_the_download_option(api, project, gallery):  # noqa: F811
    link = share(api, project, password="maison-2026")
    visitor = Client()
    visitor.post(path_of(link["url"]), {"password": "maison-2026"})
    html = visitor.get(path_of(link["url"])).content.decode()
    thumbnail = next(url for url in file_links(html) if url.endswith("/thumbnail"))
    assert visitor.get(thumbnail).status_code == 200
    assert Client().get(thumbnail).url == path_of(link["url"])  # locked: back to the password
    assert visitor.get(thumbnail.replace("/thumbnail", "/download")).status_code == 404
    assert visitor.get(thumbnail.replace("/thumbnail", "/original")).status_code == 404
    photo_id = thumbnail.split("/photos/")[1].split("/")[0]
    assert visitor.get(thumbnail.replace(photo_id, "not-a-uuid")).status_code == 404


@pytest.mark.parametrize(("password", "status"), [("a", 400), ("1234567", 400), ("12345678", 201)])
def test_share_link_passwords_have_a_minimum_length(api, project, password, status):
    response = api.post(
        f"/api/v1/projects/{project.id}/share-links/", {"password": password}, format="json"
    )
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"]["code"] == "password_too_short"
