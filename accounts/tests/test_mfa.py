"""Second factors: staff cannot open the admin before setting one up, and once set up the
browser login and the app login both ask for the code."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, TOTP_SECRET, StaffFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db


def test_staff_are_blocked_from_the_admin_until_they_set_up_totp(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert (
        client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD}).status_code
        == 302
    )
    for page in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{staff.id}/change/"):
        blocked = client.get(page)
        assert blocked.status_code == 302 and blocked.url == "/accounts/2fa/totp/activate/"

    confirm = client.get("/accounts/2fa/totp/activate/")  # setting up a factor: password again
    assert confirm.status_code == 302 and confirm.url.startswith("/accounts/reauthenticate/")
    client.post(confirm.url, {"password": PASSWORD})
    setup = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', setup).group(1)
    assert client.post("/accounts/2fa/totp/activate/", {"code": "000000"}).status_code == 200
    assert client.get("/admin/").status_code == 302  # a wrong code set nothing up
    assert (
        client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)}).status_code == 302
    )
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_admin_login_asks_for_the_password_then_the_code(client):
    staff = StaffFactory()
    start = client.get("/admin/login/?next=/admin/accounts/user/")
    assert start.status_code == 302 and start.url.startswith("/accounts/login/")
    # Django's own admin form is gone: posting to it logs nobody in.
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302

    password_step = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert password_step.status_code == 302
    assert password_step.url.startswith("/accounts/2fa/authenticate/")
    assert client.get("/admin/").url.startswith("/admin/login/")  # not signed in yet
    assert client.post("/accounts/2fa/authenticate/", {"code": "123456"}).status_code == 200
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(TOTP_SECRET)})
    assert done.status_code == 302 and done.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_app_login_with_totp_returns_tokens_only_after_the_code():
    user = StaffFactory(is_staff=False, is_superuser=False)
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 401
    body = login.json()
    assert "access_token" not in body.get("meta", {})
    pending = [flow for flow in body["data"]["flows"] if flow.get("is_pending")]
    assert [flow["id"] for flow in pending] == ["mfa_authenticate"]
    session = body["meta"]["session_token"]

    wrong = app.post(
        "/_allauth/app/v1/auth/2fa/authenticate",
        {"code": "000000"},
        format="json",
        HTTP_X_SESSION_TOKEN=session,
    )
    assert wrong.status_code == 400
    # The next 30-second step: a code is accepted once only.
    with time_machine.travel(time.time() + 30, tick=True):
        done = app.post(
            "/_allauth/app/v1/auth/2fa/authenticate",
            {"code": totp_code(TOTP_SECRET)},
            format="json",
            HTTP_X_SESSION_TOKEN=session,
        )
        assert done.status_code == 200, done.content
        access = done.json()["meta"]["access_token"]
        assert app.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


def test_a_recovery_code_stands_in_for_the_phone_once():
    user = StaffFactory(is_staff=False, is_superuser=False)
    code = RecoveryCodes.activate(user).get_unused_codes()[0]

    def sign_in_with(recovery_code: str) -> int:
        app = APIClient()
        login = app.post(
            "/_allauth/app/v1/auth/login",
            {"email": user.email, "password": PASSWORD},
            format="json",
        )
        return app.post(
            "/_allauth/app/v1/auth/2fa/authenticate",
            {"code": recovery_code},
            format="json",
            HTTP_X_SESSION_TOKEN=login.json()["meta"]["session_token"],
        ).status_code

    assert sign_in_with(code) == 200
    assert sign_in_with(code) == 400  # spent


def test_signed_in_pages_link_to_the_second_factor_settings_in_the_readers_language(client):
    user = UserFactory()
    client.force_login(user)
    nav = re.compile(r'<nav aria-label="[^"]*">(.*?)</nav>', re.S)
    english = nav.search(client.get("/").content.decode()).group(1)
    assert '<a href="/accounts/2fa/">Two-factor authentication</a>' in english
    french = nav.search(client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()).group(1)
    assert '<a href="/accounts/2fa/">Double authentification</a>' in french
    assert client.get("/accounts/2fa/").status_code == 200

    client.logout()
    assert "/accounts/2fa/" not in nav.search(client.get("/").content.decode()).group(1)
