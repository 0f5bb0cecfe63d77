"""The agent chooses what a photo is delivered as (a version, the original, or the newest
result), through the API and the photo page; exports and share galleries follow. Downloads are
named after the photo and the preset."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.test import Client
from PIL import Image

from accounts.tests.factories import UserFactory
from conftest import CHROMIUM, INTERIOR, jpeg_bytes, log_in, shared_photo
from delivery.models import Export
from projects.models import Photo

# Exports are a paid feature: the test user is on Premium.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]


def run(api, photo_id: str, preset: str, wait_for_job) -> str:
    response = api.post("/api/v1/jobs/", {"photos": [photo_id], "preset": preset}, format="json")
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["jobs"][0]["id"])
    assert job.status == "succeeded", job.error_message
    return str(job.result_version_id)


@pytest.fixture
def kitchen(upload, wait_for_ingest, api, wait_for_job):
    """A kitchen photo with two results: Natural (older), then Bright & airy (newest)."""
    image = Image.open(io.BytesIO(shared_photo(INTERIOR))).convert("RGB").resize((800, 480))
    photo = wait_for_ingest(upload(jpeg_bytes(image), "Kitchen.jpg").json()["id"])
    assert photo.status == "ready"
    older = run(api, str(photo.id), "natural", wait_for_job)
    newest = run(api, str(photo.id), "bright-airy", wait_for_job)
    return {"id": str(photo.id), "older": older, "newest": newest}


def deliver(api, photo_id: str, **body):
    return api.post(f"/api/v1/photos/{photo_id}/delivered", body, format="json")


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def download_name(headers: dict) -> str:
    return re.search(r'filename="([^"]+)"', headers["Content-Disposition"]).group(1)


def gallery_download(api, fetch, project) -> tuple[str, bytes]:
    """The name and bytes a share gallery's visitor downloads for the project's one photo."""
    link = api.post(
        f"/api/v1/projects/{project.id}/share-links/", {"allow_download": True}, format="json"
    ).json()
    html = Client().get(path_of(link["url"])).content.decode()
    (href,) = re.findall(r'<a href="([^"]+)">Download</a>', html)
    status, headers, data = fetch(href.replace("&amp;", "&"))
    assert status == 200
    return download_name(headers), data


def export_bytes(api, fetch, project) -> bytes:
    response = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "leboncoin"}, format="json"
    )
    assert response.status_code == 202, response.content
    deadline = time.monotonic() + 120
    while (export := Export.objects.get(id=response.json()["id"])).status in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert export.status == "succeeded", export.error_message
    status, _, data = fetch(api.get(f"/api/v1/exports/{export.id}/").json()["url"])
    assert status == 200 and data[:3] == b"\xff\xd8\xff"  # one photo: the JPEG itself
    return data


# --- API -------------------------------------------------------------------------------------


def test_deliver_an_older_version_then_the_original_then_the_newest(api, kitchen, project, fetch):
    photo = api.get(f"/api/v1/photos/{kitchen['id']}/").json()
    assert photo["delivered_version"] is None and photo["deliver_original"] is False
    assert [v["id"] for v in photo["versions"]] == [kitchen["newest"], kitchen["older"]]
    assert gallery_download(api, fetch, project)[0] == "kitchen-bright-airy.jpg"

    response = deliver(api, kitchen["id"], version=kitchen["older"])
    assert response.status_code == 200, response.content
    assert response.json()["delivered_version"] == kitchen["older"]
    photo = api.get(f"/api/v1/photos/{kitchen['id']}/").json()
    assert photo["delivered_version"] == kitchen["older"] and photo["deliver_original"] is False
    name, data = gallery_download(api, fetch, project)
    assert name == "kitchen-natural.jpg"
    older = next(v for v in photo["versions"] if v["id"] == kitchen["older"])
    assert data == fetch(older["urls"]["download"])[2]

    response = deliver(api, kitchen["id"], original=True)
    assert response.status_code == 200
    assert response.json()["deliver_original"] is True
    assert response.json()["delivered_version"] is None
    name, data = gallery_download(api, fetch, project)
    assert name == "Kitchen.jpg"
    assert data == fetch(photo["urls"]["original"])[2]

    response = deliver(api, kitchen["id"], latest=True)
    assert response.status_code == 200
    assert (response.json()["delivered_version"], response.json()["deliver_original"]) == (
        None,
        False,
    )
    assert gallery_download(api, fetch, project)[0] == "kitchen-bright-airy.jpg"


def test_a_portal_export_follows_the_delivered_version(api, kitchen, project, fetch):
    newest = export_bytes(api, fetch, project)
    assert deliver(api, kitchen["id"], version=kitchen["older"]).status_code == 200
    older = export_bytes(api, fetch, project)
    assert deliver(api, kitchen["id"], original=True).status_code == 200
    original = export_bytes(api, fetch, project)
    assert len({newest, older, original}) == 3
    assert deliver(api, kitchen["id"], latest=True).status_code == 200
    assert export_bytes(api, fetch, project) == newest


def test_refusals_leave_the_choice_as_it_was(api, kitchen, upload, wait_for_ingest, client_for):
    other = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (640, 480), "teal"))).json()["id"])
    assert deliver(api, kitchen["id"], version=kitchen["older"]).status_code == 200

    # A version of another photo, even one of yours.
    refused = deliver(api, str(other.id), version=kitchen["older"])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "version_mismatch"
    # Malformed or unknown versions, and ambiguous or empty choices.
    malformed = deliver(api, kitchen["id"], version="nope")
    assert malformed.status_code == 404 and malformed.json()["error"]["code"] == "version_not_found"
    unknown = deliver(api, kitchen["id"], version="00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "version_not_found"
    both = deliver(api, kitchen["id"], version=kitchen["newest"], original=True)
    assert both.status_code == 400 and both.json()["error"]["code"] == "validation_error"
    assert deliver(api, kitchen["id"]).status_code == 400
    assert deliver(api, kitchen["id"], original=False).status_code == 400

    # Another user can neither choose for this photo nor use its versions on theirs.
    stranger = client_for(UserFactory())
    theirs = deliver(stranger, kitchen["id"], original=True)
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "photo_not_found"
    assert deliver(stranger, "not-an-id", original=True).status_code == 404

    photo = Photo.objects.get(id=kitchen["id"])
    assert str(photo.delivered_version_id) == kitchen["older"] and not photo.deliver_original
    assert Photo.objects.get(id=other.id).delivered_version_id is None


def test_download_names_come_from_the_photo_and_the_preset(
    api, upload, wait_for_ingest, wait_for_job, fetch
):
    image = Image.open(io.BytesIO(shared_photo(INTERIOR))).convert("RGB").resize((800, 480))
    photo = wait_for_ingest(upload(jpeg_bytes(image), "Séjour côté jardin.JPG").json()["id"])
    run(api, str(photo.id), "bright-airy", wait_for_job)
    body = api.get(f"/api/v1/photos/{photo.id}/").json()
    (version,) = body["versions"]
    status, headers, data = fetch(version["urls"]["download"])
    assert status == 200 and data[:3] == b"\xff\xd8\xff"
    assert download_name(headers) == "sejour-cote-jardin-bright-airy.jpg"
    assert headers["Content-Disposition"].startswith("attachment")
    # The original keeps the name it was uploaded with (made safe for a header).
    assert download_name(fetch(body["urls"]["original"])[1]) == "S_jour_c_t__jardin.jpg"

    nameless = wait_for_ingest(upload(jpeg_bytes(image), "客厅.jpg").json()["id"])
    run(api, str(nameless.id), "natural", wait_for_job)
    (version,) = api.get(f"/api/v1/photos/{nameless.id}/").json()["versions"]
    assert download_name(fetch(version["urls"]["download"])[1]) == "photo-natural.jpg"


# --- Photo page ------------------------------------------------------------------------------


def page_url(project, photo_id: str) -> str:
    return f"/projects/{project.id}/photos/{photo_id}/"


def rows(html: str) -> dict[str, str]:
    """Each version row of the history, by version id (``original`` for the original)."""
    found = re.findall(
        r'<li class="version-row([^"]*)" data-version="([^"]+)">(.*?)</li>', html, re.S
    )
    return {key: classes + body for classes, key, body in found}


def test_photo_page_lists_versions_and_delivers_the_chosen_one(api, kitchen, project):
    url = page_url(project, kitchen["id"])
    history = rows(api.get(url).content.decode())
    assert list(history) == [kitchen["newest"], kitchen["older"], "original"]
    assert "delivered" in history[kitchen["newest"]] and "Delivered" in history[kitchen["newest"]]
    assert "Deliver this version" in history[kitchen["older"]]
    assert (
        "Bright &amp; airy" in history[kitchen["newest"]] and "Natural" in history[kitchen["older"]]
    )
    assert "Revert to the original" in history["original"]

    response = api.post(url + "deliver", {"version": kitchen["older"]}, follow=True)
    assert response.redirect_chain[-1] == (url, 302)
    html = response.content.decode()
    assert "This version is now delivered." in html
    history = rows(html)
    assert "Delivered" in history[kitchen["older"]]
    assert "Deliver this version" in history[kitchen["newest"]]
    assert 'name="latest"' in html  # the agent can go back to the automatic choice
    # The slider compares the delivered version with the original.
    assert "After · Natural" in html

    html = api.post(url + "deliver", {"original": "1"}, follow=True).content.decode()
    assert "The original is delivered again." in html
    history = rows(html)
    assert "Delivered" in history["original"] and "Revert to the original" not in html
    assert Photo.objects.get(id=kitchen["id"]).deliver_original

    html = api.post(url + "deliver", {"latest": "1"}, follow=True).content.decode()
    assert "Delivered" in rows(html)[kitchen["newest"]]
    photo = Photo.objects.get(id=kitchen["id"])
    assert photo.delivered_version_id is None and not photo.deliver_original


def test_photo_page_refusals(api, kitchen, project, client_for, upload, wait_for_ingest):
    url = page_url(project, kitchen["id"])
    other = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (640, 480), "teal"))).json()["id"])
    html = api.post(
        page_url(project, str(other.id)) + "deliver", {"version": kitchen["older"]}, follow=True
    ).content.decode()
    assert "This version no longer exists" in html
    html = api.post(url + "deliver", {"version": "junk"}, follow=True).content.decode()
    assert "This version no longer exists" in html
    html = api.post(url + "deliver", {}, follow=True).content.decode()
    assert "Choose a version, the original or the newest result." in html
    assert api.get(url + "deliver").status_code == 405
    # A stale or odd ?version= still shows the photo with its delivered version.
    html = api.get(url + "?version=junk").content.decode()
    assert "After · Bright &amp; airy" in html and "Deliver this version" in html
    assert "After · Natural" in api.get(f"{url}?version={kitchen['older']}").content.decode()

    stranger = client_for(UserFactory())
    assert stranger.post(url + "deliver", {"original": "1"}).status_code == 404
    assert stranger.get(url).status_code == 404
    anonymous = Client().post(url + "deliver", {"original": "1"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    photo = Photo.objects.get(id=kitchen["id"])
    assert photo.delivered_version_id is None and not photo.deliver_original
    assert Photo.objects.get(id=other.id).delivered_version_id is None


def test_photo_page_in_french(api, kitchen, project):
    url = page_url(project, kitchen["id"])
    html = api.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Livrer cette version" in html and "Revenir à l’original" in html
    assert "Livrée" in html and "Télécharger l’original" in html
    response = api.post(url + "deliver", {"original": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
    assert "L’original est de nouveau livré." in response.content.decode()


# --- In a real browser -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_deliver_an_older_version_then_revert_in_the_browser(
    live_server, celery_worker_process, kitchen, user, project, page
):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}{page_url(project, kitchen['id'])}")

    older = page.locator(f'li[data-version="{kitchen["older"]}"]')
    newest = page.locator(f'li[data-version="{kitchen["newest"]}"]')
    original = page.locator('li[data-version="original"]')
    expect(newest.locator(".delivered-tag")).to_be_visible()
    # Keyboard only: focus the older version's button and press Enter.
    button = older.get_by_role("button", name=re.compile("Deliver this version"))
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("This version is now delivered.")
    expect(older.locator(".delivered-tag")).to_be_visible()
    expect(newest.get_by_role("button")).to_be_visible()
    expect(page.locator("#compare .label.right")).to_have_text("After · Natural")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    original.get_by_role("button", name="Revert to the original").click()
    expect(page.locator(".messages")).to_contain_text("The original is delivered")
    expect(original.locator(".delivered-tag")).to_be_visible()
    expect(older.get_by_role("button")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    photo = Photo.objects.get(id=kitchen["id"])
    assert photo.deliver_original and photo.delivered_version_id is None
