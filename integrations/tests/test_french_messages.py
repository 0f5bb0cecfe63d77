"""Webhook refusals and pages in French when the reader asks for it, with unchanged codes."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_api_refusals_in_french(api):
    body = {"url": "https://crm.example.com/hooks", "events": ["photo.teleported"]}
    events = error_of(api.post("/api/v1/webhooks/", body, format="json", **FR), 400)
    assert events["code"] == "validation_error"
    assert "photo.teleported" in events["message"]
    assert "n’est pas un choix valide" in events["message"].replace("'", "’")

    url = error_of(
        api.post("/api/v1/webhooks/", {"url": "ftp://crm.example.com/"}, format="json", **FR), 400
    )
    assert url["code"] == "invalid_url"
    assert url["message"] == "L’URL doit être de la forme http(s)://hôte/…"
    english = error_of(api.post("/api/v1/webhooks/", {"url": "ftp://crm.example.com/"}), 400)
    assert english["message"] == "The URL must be http(s)://host/…"
    assert not WebhookEndpoint.objects.exists()


def test_webhooks_page_speaks_french(user):
    browser = Client()
    browser.force_login(user)
    added = browser.post(
        "/integrations/webhooks/",
        {"url": "http://127.0.0.1:9/hooks", "events": ["photo.ingested"]},
        follow=True,
        **FR,
    )
    text = added.content.decode()
    endpoint = WebhookEndpoint.objects.get(owner=user)
    assert (
        f"Point de terminaison ajouté. Son secret de signature (affiché une seule fois) : "
        f"{endpoint.secret}" in text
    )
    for status in (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.SUCCEEDED):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=uuid.uuid4(),
            event_type="photo.ingested",
            payload={},
            status=status,
        )
    page = browser.get("/integrations/webhooks/", **FR).content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "Échec" in cells and "Réussi" in cells
    assert "failed" not in cells and "succeeded" not in cells
    english = browser.get("/integrations/webhooks/").content.decode()
    assert {"Failed", "Succeeded"} <= set(re.findall(r"<td>([^<]*)</td>", english))

    refused = browser.post(
        "/integrations/webhooks/", {"url": "ftp://crm.example.com/"}, follow=True, **FR
    )
    assert "L’URL doit être de la forme http(s)://hôte/…" in refused.content.decode()
    unknown = browser.post(
        "/integrations/webhooks/",
        {"url": "http://127.0.0.1:9/other", "events": ["photo.teleported"]},
        follow=True,
        **FR,
    )
    assert "Événements inconnus : photo.teleported." in unknown.content.decode()
    assert WebhookEndpoint.objects.count() == 1
