"""Sign-up, verification, login and password reset in the browser; JWT for app clients."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def link_in_last_email() -> str:
    return re.search(r"https?://testserver(\S+)", mail.outbox[-1].body).group(1)


def test_signup_verify_email_then_reach_the_dashboard(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.agent@example.com",
            "password1": "a-Long-pass-phrase",
            "password2": "a-Long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new.agent@example.com").exists()
    # Mandatory verification: no dashboard before the link is followed.
    assert not client.get("/").wsgi_request.user.is_authenticated  # the landing page
    confirm = link_in_last_email()
    assert client.post(confirm).status_code == 302
    assert (
        client.post(
            "/accounts/login/", {"login": "new.agent@example.com", "password": "a-Long-pass-phrase"}
        ).status_code
        == 302
    )
    page = client.get("/")
    assert page.status_code == 200 and b"Projects" in page.content


def test_login_and_logout(client):
    user = UserFactory()
    assert (
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code
        == 200
    )
    assert not client.get("/").wsgi_request.user.is_authenticated  # the landing page
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert not client.get("/").wsgi_request.user.is_authenticated  # the landing page


def test_password_reset_by_email(client):
    user = UserFactory()
    client.post("/accounts/password/reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    form_url = client.get(link_in_last_email()).url  # allauth hides the key behind a redirect
    response = client.post(
        form_url, {"password1": "brand-New-secret-9", "password2": "brand-New-secret-9"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-New-secret-9")


def test_app_client_logs_in_with_jwt_and_calls_the_api():
    user = UserFactory(first_name="Léa")
    MembershipFactory(user=user, agency__name="Lyon Immo", role="admin")
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    access = login.json()["meta"]["access_token"]
    assert login.json()["meta"]["refresh_token"]

    me = app.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200
    body = me.json()
    assert body["email"] == user.email and body["first_name"] == "Léa"
    assert body["memberships"] == [
        {"agency_id": user.memberships.get().agency_id, "agency_name": "Lyon Immo", "role": "admin"}
    ]
    forged = app.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access[:-4]}AAAA")
    assert forged.status_code in (401, 403)
    assert forged.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db(transaction=True)
def test_inviting_someone_without_an_account(client):
    from accounts.models import Membership
    from billing.models import Plan

    Plan.objects.filter(code="free").update(seats=2)
    owner = UserFactory()
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(owner)
    agency_id = api.post("/api/v1/agencies/", {"name": "Immo Croix-Rousse"}, format="json").json()[
        "agency_id"
    ]
    invited = api.post(
        f"/api/v1/agencies/{agency_id}/members/", {"email": "Newcomer@Example.com"}, format="json"
    )
    assert invited.status_code == 202 and invited.json()["invited"] == "newcomer@example.com"
    assert mail.outbox[-1].to == ["newcomer@example.com"]
    link = re.search(r"/invitations/[\w-]+/", mail.outbox[-1].body).group(0)
    # The invitation holds the last seat: nobody else can be added meanwhile.
    full = api.post(
        f"/api/v1/agencies/{agency_id}/members/", {"email": UserFactory().email}, format="json"
    )
    assert full.status_code == 402 and full.json()["error"]["code"] == "seat_limit"

    assert client.get(link).status_code == 302  # log in or sign up first
    stranger = UserFactory()
    client.force_login(stranger)
    client.get(link)
    assert not Membership.objects.filter(user=stranger).exists()
    newcomer = UserFactory(email="newcomer@example.com")
    client.force_login(newcomer)
    assert client.get(link, follow=True).status_code == 200
    assert Membership.objects.get(user=newcomer).agency_id == agency_id
    client.get(link)
    assert Membership.objects.filter(agency_id=agency_id).count() == 2


def test_signup_email_names_photolisting_at_the_site_url(client, settings):
    settings.SITE_URL = "https://app.photolisting.example"
    client.post(
        "/accounts/signup/",
        {
            "email": "named@example.com",
            "password1": "a-Long-pass-phrase",
            "password2": "a-Long-pass-phrase",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    message = mail.outbox[-1]
    assert message.to == ["named@example.com"]
    assert message.subject == "[PhotoListing] Please Confirm Your Email Address"
    assert "Hello from PhotoListing!" in message.body
    assert "app.photolisting.example" in message.body
    assert "testserver!" not in message.body and "[testserver]" not in message.subject


def test_a_member_cap_too_large_for_any_plan_is_a_400_not_an_overflow(client_for):
    """Found by Schemathesis: a 28-digit cap reached the database and came back as a 500."""
    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory

    owner = MembershipFactory(role=Membership.Role.OWNER)
    member = MembershipFactory(agency=owner.agency)
    url = f"/api/v1/agencies/{owner.agency_id}/members/{member.user_id}/"
    refused = client_for(owner.user).patch(
        url, {"monthly_ai_limit": 8363412761292193731492970496}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_error"
    member.refresh_from_db()
    assert member.monthly_ai_limit is None


def test_ids_past_what_a_database_integer_holds_are_404s(client_for):
    """Found by Schemathesis: a 20-digit member id overflowed the database query (500)."""
    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory

    owner = MembershipFactory(role=Membership.Role.OWNER)
    api = client_for(owner.user)
    huge = 18446744073709551617
    member = api.patch(
        f"/api/v1/agencies/{owner.agency_id}/members/{huge}/", {"role": "admin"}, format="json"
    )
    assert member.status_code == 404
    assert member.json()["error"]["code"] == "member_not_found"
    agency = api.get(f"/api/v1/agencies/{huge}/members/")
    assert agency.status_code == 404
