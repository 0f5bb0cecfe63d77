"""Billing speaks the reader's language (Accept-Language): refusals keep their stable codes, and
the shipped plans have French names on the billing page and in the API."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from billing.models import Plan

pytestmark = pytest.mark.django_db(transaction=True)

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def error_of(response) -> dict:
    return response.json()["error"]


def jobs(client, photos, **headers):
    body = {"photos": photos, "preset": "natural", "lane": "offpeak"}
    return client.post("/api/v1/jobs/", body, format="json", **headers)


def card(page: str, code: str) -> str:
    """One plan card's HTML, up to the next card or the invoices."""
    return re.search(rf'data-plan="{code}">.*?(?=data-plan=|id="invoices-title")', page, re.S)[0]


def test_quota_exceeded_in_french_names_the_plan_in_french(api, ready_photos):
    Plan.objects.filter(code="free").update(monthly_processed_quota=1)
    photos = ready_photos(2)
    response = jobs(api, photos, **FR)
    assert response.status_code == 402
    error = error_of(response)
    assert error["code"] == "quota_exceeded" and error["details"]["plan"] == "free"
    assert error["message"] == (
        "Votre forfait Gratuit comprend 1 photos traitées par période et il en reste 1 ; "
        "il en faut 2. Passez à un forfait supérieur sur la page Facturation pour en avoir plus."
    )
    english = error_of(jobs(api, photos, **EN))
    assert english["code"] == "quota_exceeded"
    assert english["message"].startswith("Your Free plan includes 1 processed photos")


def test_member_limit_in_french(api, user, project, ready_photos, client_for):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    project.owner, project.agency = None, owner.agency
    project.save()
    member = MembershipFactory(agency=owner.agency, monthly_processed_limit=1).user
    first, second = ready_photos(2)
    member_api = client_for(member)
    assert jobs(member_api, [first], **FR).status_code == 202
    refused = jobs(member_api, [second], **FR)
    assert refused.status_code == 402
    assert error_of(refused)["code"] == "member_limit_exceeded"
    assert error_of(refused)["message"] == (
        "Votre agence vous accorde 1 photos traitées par période ; demandez à un "
        "administrateur de l’agence de relever votre limite."
    )


def test_billing_unavailable_in_french(api, settings):
    settings.STRIPE_SECRET_KEY = ""
    Plan.objects.filter(code="premium").update(price_monthly="price_x")
    response = api.post("/api/v1/billing/checkout", {"plan": "premium"}, format="json", **FR)
    assert response.status_code == 503
    assert error_of(response)["code"] == "billing_unavailable"
    assert error_of(response)["message"].startswith(
        "Les paiements ne sont pas encore configurés sur ce serveur"
    )
    portal = api.post("/api/v1/billing/portal", {}, format="json", **FR)
    assert portal.status_code == 503 and error_of(portal)["code"] == "billing_unavailable"


def test_plan_refusals_in_french(api, user, stripe):
    unknown = api.post("/api/v1/billing/checkout", {"plan": "gold"}, format="json", **FR)
    assert unknown.status_code == 404 and error_of(unknown) == {
        "code": "plan_not_found",
        "message": "Ce forfait n’existe pas.",
        "details": {},
    }
    free = api.post("/api/v1/billing/checkout", {"plan": "free"}, format="json", **FR)
    assert free.status_code == 400 and error_of(free)["code"] == "use_portal_to_cancel"
    assert error_of(free)["message"].startswith("Pour revenir au forfait gratuit")
    yearly = api.post(
        "/api/v1/billing/checkout", {"plan": "premium", "interval": "year"}, format="json", **FR
    )
    assert yearly.status_code == 200, "priced yearly: goes to Checkout"
    Plan.objects.filter(code="premium").update(price_yearly="")
    unpriced = api.post(
        "/api/v1/billing/checkout", {"plan": "premium", "interval": "year"}, format="json", **FR
    )
    assert unpriced.status_code == 400 and error_of(unpriced)["code"] == "plan_not_for_sale"
    assert (
        error_of(unpriced)["message"] == "Le forfait Premium ne peut pas être acheté à l’année ici."
    )
    cancel = api.post("/api/v1/billing/cancel", {}, format="json", **FR)
    assert cancel.status_code == 400 and error_of(cancel)["code"] == "no_subscription"
    assert error_of(cancel)["message"] == "Il n’y a pas d’abonnement payant à résilier."

    membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
    body = {"plan": "agency", "agency": membership.agency_id}
    member = api.post("/api/v1/billing/checkout", body, format="json", **FR)
    assert member.status_code == 403 and error_of(member)["code"] == "not_billing_admin"
    assert error_of(member)["message"] == (
        "Seuls les propriétaires et administrateurs de l’agence peuvent changer son forfait."
    )


def test_plan_names_in_french_on_the_billing_page_and_in_the_api(client, api, user, stripe):
    overview = api.get("/api/v1/billing/", **FR).json()
    assert overview["plan"] == {"code": "free", "name": "Gratuit"}
    names = {plan["code"]: plan["name"] for plan in overview["plans"]}
    assert names == {"free": "Gratuit", "premium": "Premium", "agency": "Agence"}
    english = api.get("/api/v1/billing/", **EN).json()
    assert {plan["code"]: plan["name"] for plan in english["plans"]}["agency"] == "Agency"

    client.force_login(user)
    page = client.get("/billing/", **FR).content.decode()
    assert "Votre forfait : Gratuit" in page
    assert "<h3>Gratuit" in card(page, "free") and "<h3>Agence" in card(page, "agency")
    assert "Choisir Agence" in card(page, "agency")
    assert "Choose Agency" in client.get("/billing/", **EN).content.decode()


def test_a_plan_renamed_in_the_admin_shows_as_written(api):
    Plan.objects.filter(code="premium").update(name="Premium Plus")
    names = {p["code"]: p["name"] for p in api.get("/api/v1/billing/", **FR).json()["plans"]}
    assert names["premium"] == "Premium Plus" and names["free"] == "Gratuit"


def test_usage_warning_mail_and_banner_in_french(api, client, user, ready_photos):
    Plan.objects.filter(code="free").update(monthly_processed_quota=5)
    photos = ready_photos(4)
    mail.outbox.clear()
    assert jobs(api, photos, **FR).status_code == 202
    assert [m.subject for m in mail.outbox] == [
        "PhotoListing : 80 % de vos photos traitées utilisées"
    ]
    assert "comprises dans votre forfait Gratuit" in mail.outbox[0].body
    client.force_login(user)
    page = client.get("/", **FR).content.decode()
    assert "Votre forfait : 80 % des photos traitées utilisées sur la période." in page
    assert (
        "Your plan: 80% of processed photos used this period."
        in client.get("/", **EN).content.decode()
    )
