"""App tokens end with their session: logout, password change, a reused refresh token (the whole
chain goes) and staff signing a user out everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

AUTH = "/_allauth/app/v1"


@pytest.fixture(autouse=True, params=[False, True], ids=["unthrottled", "throttled"])
def _throttle(request, settings):
    """Throttled, the token's session is read in the plan throttle's round trip (with Redis):
    tokens must end with their session either way."""
    settings.API_THROTTLE = request.param


def app_login(user, password: str = PASSWORD) -> dict:
    login = APIClient().post(
        f"{AUTH}/auth/login", {"email": user.email, "password": password}, format="json"
    )
    assert login.status_code == 200, login.content
    return login.json()["meta"]


def me_status(access: str) -> int:
    return APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def refresh(refresh_token: str):
    return APIClient().post(
        f"{AUTH}/tokens/refresh", {"refresh_token": refresh_token}, format="json"
    )


def test_logout_ends_the_access_and_refresh_tokens():
    tokens = app_login(UserFactory())
    assert me_status(tokens["access_token"]) == 200
    out = APIClient().delete(
        f"{AUTH}/auth/session", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )
    assert out.status_code == 401  # allauth: no longer authenticated
    assert me_status(tokens["access_token"]) == 401
    assert refresh(tokens["refresh_token"]).status_code != 200


def test_a_reused_refresh_token_ends_the_whole_chain():
    user = UserFactory()
    first = app_login(user)
    rotated = refresh(first["refresh_token"])
    assert rotated.status_code == 200, rotated.content
    second = rotated.json()["data"]
    assert me_status(second["access_token"]) == 200
    other_device = app_login(user)

    # The first refresh token again: someone kept a copy.
    assert refresh(first["refresh_token"]).status_code != 200
    assert refresh(second["refresh_token"]).status_code != 200
    assert me_status(second["access_token"]) == 401
    assert me_status(first["access_token"]) == 401
    # Only that chain: the user's other device stays signed in.
    assert me_status(other_device["access_token"]) == 200


def test_a_password_change_ends_every_session_of_the_account():
    user = UserFactory()
    phone, tablet = app_login(user), app_login(user)
    changed = APIClient().post(
        f"{AUTH}/account/password/change",
        {"current_password": PASSWORD, "new_password": "a-Brand-new-phrase-26"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {phone['access_token']}",
    )
    assert changed.status_code in (200, 401), changed.content
    for device in (phone, tablet):
        assert me_status(device["access_token"]) == 401
        assert refresh(device["refresh_token"]).status_code != 200
    assert me_status(app_login(user, "a-Brand-new-phrase-26")["access_token"]) == 200


def test_staff_sign_a_user_out_everywhere(client):
    user, bystander = UserFactory(), UserFactory()
    tokens, kept = app_login(user), app_login(bystander)
    browser = APIClient()
    browser.force_login(user)
    client.force_login(StaffFactory())
    done = client.post(
        "/admin/accounts/user/",
        {"action": "end_sessions", "_selected_action": [user.pk]},
        follow=True,
    )
    assert done.status_code == 200
    assert b"2 sessions ended." in done.content
    assert me_status(tokens["access_token"]) == 401
    assert refresh(tokens["refresh_token"]).status_code != 200
    assert browser.get("/api/v1/me").status_code in (401, 403)
    assert me_status(kept["access_token"]) == 200


def test_a_change_to_the_user_row_reaches_the_next_call():
    """The user row an app-token call relies on may come from a snapshot kept beside the
    session: a deactivation or a new password saved on the row, even without ending the
    sessions, refuses the very next call."""
    switched_off, new_password = UserFactory(), UserFactory()
    tokens = {user: app_login(user)["access_token"] for user in (switched_off, new_password)}
    for token in tokens.values():
        assert me_status(token) == 200
        assert me_status(token) == 200  # the second call may use the snapshot
    switched_off.is_active = False
    switched_off.save()
    new_password.set_password("a-Brand-new-phrase-26")
    new_password.save()
    assert me_status(tokens[switched_off]) == 401
    assert me_status(tokens[new_password]) == 401


def test_an_app_token_call_reads_no_user_row_while_its_snapshot_lives():
    if not (settings.API_THROTTLE and isinstance(caches["default"], RedisCache)):
        pytest.skip("the session, snapshot and count are read together only in Redis, throttled")
    token = app_login(UserFactory())["access_token"]
    assert me_status(token) == 200
    with CaptureQueriesContext(connection) as queries:
        assert me_status(token) == 200
    assert not [q for q in queries if 'FROM "accounts_user"' in q["sql"]], queries.captured_queries


def test_an_accepted_token_is_refused_once_expired_or_when_tampered():
    """A token's check is remembered by the process that made it: never past its expiry, and
    never for another string."""
    token = app_login(UserFactory())["access_token"]
    assert me_status(token) == 200
    assert me_status(token) == 200  # the remembered check
    header, payload, signature = token.split(".")
    forged_signature = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    assert me_status(f"{header}.{payload}.{forged_signature}") == 401
    assert me_status(f"{header}.{payload[:-2]}xx.{signature}") == 401
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):  # access tokens live 5
        assert me_status(token) == 401


def test_a_refused_token_is_explained_in_the_callers_language():
    answer = APIClient().get(
        "/api/v1/me", HTTP_AUTHORIZATION="Bearer not.a.token", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "Token non valide."
