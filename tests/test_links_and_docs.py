"""Signed links stay the same within a window (browsers keep their thumbnails), and the API docs
load their assets from our own static files, not a CDN."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from PIL import Image

from conftest import jpeg_bytes
from photolisting.storage import signed_url
from tests.fakes.s3_presign_gate import expected_signature

WINDOW_START = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def _original_link(api, photo_id: str) -> str:
    response = api.get(f"/api/v1/photos/{photo_id}/")
    assert response.status_code == 200
    return response.json()["urls"]["original"]


@pytest.mark.django_db
def test_photo_links_are_the_same_within_a_window_and_change_across_windows(
    api, upload, fetch, settings
):
    settings.SIGNED_URL_WINDOW = 300
    settings.SIGNED_URL_MAX_AGE = 900
    created = upload(jpeg_bytes(Image.new("RGB", (64, 48), (120, 90, 60))))
    assert created.status_code == 201
    photo_id = created.json()["id"]

    with time_machine.travel(WINDOW_START + timedelta(seconds=10), tick=False):
        first = _original_link(api, photo_id)
    with time_machine.travel(WINDOW_START + timedelta(seconds=290), tick=False):
        again = _original_link(api, photo_id)
    with time_machine.travel(WINDOW_START + timedelta(seconds=301), tick=False):
        next_window = _original_link(api, photo_id)
    assert first and first == again
    assert next_window != first

    if settings.STORAGE_BACKEND != "local":
        return
    # The first window's link lives the lifetime past the window's end, then is refused.
    with time_machine.travel(WINDOW_START + timedelta(seconds=301), tick=False):
        assert fetch(first)[0] == 200
    with time_machine.travel(WINDOW_START + timedelta(seconds=300 + 900 - 1), tick=False):
        assert fetch(first)[0] == 200
    with time_machine.travel(WINDOW_START + timedelta(seconds=300 + 900 + 1), tick=False):
        assert fetch(first)[0] == 403
        assert fetch(next_window)[0] == 200


@pytest.mark.django_db
def test_links_for_other_objects_or_names_differ_within_a_window(settings):
    with time_machine.travel(WINDOW_START, tick=False):
        link = signed_url("thumbnails", "p/1/thumb.webp", content_type="image/webp", filename="a")
        assert link == signed_url(
            "thumbnails", "p/1/thumb.webp", content_type="image/webp", filename="a"
        )
        assert link != signed_url(
            "thumbnails", "p/2/thumb.webp", content_type="image/webp", filename="a"
        )
        assert link != signed_url(
            "thumbnails", "p/1/thumb.webp", content_type="image/webp", filename="b"
        )
        assert link != signed_url(
            "thumbnails", "p/1/thumb.webp", content_type="image/webp", filename="a", inline=False
        )


@pytest.fixture
def offline_s3(settings):
    """An S3 storage presigning offline (botocore needs no network to sign)."""
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "thumbnails": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "pl-thumbnails",
                "region_name": "eu-west-3",
                "access_key": "AKIATEST",
                "secret_key": "secret",
                "querystring_auth": True,
            },
        },
    }


def _presigned(**options) -> str:
    return signed_url(
        "thumbnails", "p/1/thumb.webp", content_type="image/webp", filename="a.webp", **options
    )


def test_presigned_s3_links_are_kept_for_the_window_and_valid_a_full_lifetime(offline_s3, settings):
    settings.SIGNED_URL_WINDOW = 300
    settings.SIGNED_URL_MAX_AGE = 900
    with time_machine.travel(WINDOW_START + timedelta(seconds=10), tick=False):
        first = _presigned()
    with time_machine.travel(WINDOW_START + timedelta(seconds=250), tick=False):
        again = _presigned()
        other = signed_url(
            "thumbnails", "p/2/thumb.webp", content_type="image/webp", filename="a.webp"
        )
    with time_machine.travel(WINDOW_START + timedelta(seconds=305), tick=False):
        next_window = _presigned()
    assert "X-Amz-Signature=" in first
    assert first == again
    assert other != first and "p/2/thumb.webp" in other
    assert next_window != first

    # Stamped with the window's start, valid until the window's end plus the full lifetime.
    query = parse_qs(urlsplit(first).query)
    assert query["X-Amz-Date"] == ["20260302T100000Z"]
    assert int(query["X-Amz-Expires"][0]) == 300 + 900


def _s3_signature_holds(url: str, secret: str = "secret") -> bool:
    """S3's own check of a presigned GET (SigV4 query auth, as the gate in front of moto does)."""
    parts = urlsplit(url)
    given = parse_qs(parts.query)["X-Amz-Signature"][0]
    return given == expected_signature("GET", parts.netloc, parts.path, parts.query, secret)


def test_presigned_s3_links_pass_s3s_check_and_a_changed_one_does_not(offline_s3, settings):
    settings.SIGNED_URL_WINDOW = 300
    with time_machine.travel(WINDOW_START + timedelta(seconds=10), tick=False):
        link = signed_url(
            "thumbnails", "p/1/kitchen view.webp", content_type="image/webp", filename="a b.webp"
        )
        short = _presigned(max_age=60)
    assert _s3_signature_holds(link) and _s3_signature_holds(short)
    assert not _s3_signature_holds(link, secret="another secret")
    for forged in (
        link.replace("p/1/", "p/2/"),  # another object
        link.replace("a%20b.webp", "c.webp"),  # another download name
        link.replace("X-Amz-Expires=1200", "X-Amz-Expires=99999"),  # a longer life
    ):
        assert forged != link and not _s3_signature_holds(forged)


def test_an_explicit_lifetime_is_exact_and_not_shared(offline_s3):
    with time_machine.travel(WINDOW_START + timedelta(seconds=10), tick=False):
        short = _presigned(max_age=60)
    with time_machine.travel(WINDOW_START + timedelta(seconds=20), tick=False):
        later = _presigned(max_age=60)
    assert parse_qs(urlsplit(short).query)["X-Amz-Expires"] == ["60"]
    assert short != later


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_api_docs_load_only_our_own_static_assets(live_server, page):
    with urllib.request.urlopen(live_server.url + page, timeout=10) as response:
        assert response.status == 200
        html = response.read().decode()
    assets = ASSET.findall(html)
    assert assets, "the docs page references no script or stylesheet"
    assert [a for a in assets if "//" in a] == []
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith("/static/") for a in scripts)
    for asset in assets:
        with urllib.request.urlopen(live_server.url + asset, timeout=10) as served:
            assert served.status == 200 and served.read(), asset


@pytest.mark.django_db
def test_signed_out_visitors_get_the_landing_page_in_their_language(client, user):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    page = english.content.decode()
    assert "Bright, straight, portal-ready listing photos" in page
    assert 'href="/accounts/signup/"' in page and 'href="/accounts/login/"' in page
    assert "landing/before.jpg" in page and "landing/after.jpg" in page
    assert "Premium" in page and "Agency" in page

    french = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in french
    assert "lumineuses, droites et prêtes pour les portails" in french
    assert "Créer un compte gratuit" in french
    # Each language is offered under its own name.
    assert '<option value="en" lang="en">English</option>' in french

    client.force_login(user)
    dashboard = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "portal-ready listing photos" not in dashboard and "Log out" in dashboard


def test_the_landing_example_photos_are_small_jpegs():
    from django.contrib.staticfiles import finders

    for name in ("landing/before.jpg", "landing/after.jpg"):
        path = finders.find(name)
        assert path, name
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.width <= 1200
        assert Path(path).stat().st_size < 120_000


@pytest.mark.django_db
def test_shared_pages_speak_french(client, user):
    client.force_login(user)
    missing = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.content.decode()
    webhooks = client.get("/integrations/webhooks/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Aucun envoi pour" in webhooks or "Aucun événement coché" in webhooks
    assert "Aller au contenu" in webhooks
    assert "Add endpoint" not in webhooks
