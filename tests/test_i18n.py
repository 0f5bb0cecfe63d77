"""French first-class: the reader's language from Accept-Language or their choice; API codes stay."""

from __future__ import annotations

import pytest

from projects.tests import damaged

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_follow_accept_language_and_the_switcher(user, client):
    client.force_login(user)
    assert "Projets" in client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert ">Projects<" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="fr"' in page and "Se déconnecter" in page


def test_rejections_are_worded_in_the_readers_language_with_a_stable_code(
    upload, api, wait_for_ingest
):
    photo = wait_for_ingest(upload(damaged.jpeg_truncated(), "cut.jpg").json()["id"])
    french = api.get(f"/api/v1/photos/{photo.id}/", HTTP_ACCEPT_LANGUAGE="fr").json()["rejection"]
    english = api.get(f"/api/v1/photos/{photo.id}/", HTTP_ACCEPT_LANGUAGE="en").json()["rejection"]
    assert french["code"] == english["code"] == "truncated_image"
    assert french["message"].startswith("Le fichier est incomplet")
    assert english["message"].startswith("The file is incomplete")
