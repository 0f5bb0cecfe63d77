"""Failed passwords slow down the address that sends them and, briefly, the account: an attacker
waits longer and longer, the owner is never locked out."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/accounts/login/?next=/admin/"  # where /admin/login/ sends staff


def test_thirty_wrong_admin_passwords_slow_the_attacker_not_the_owner():
    staff = StaffFactory()
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    assert attacker.get("/admin/login/").url.startswith("/accounts/login/")
    with time_machine.travel("2026-11-26 04:00", tick=False) as clock:
        answers = [
            attacker.post(ADMIN_LOGIN, {"login": staff.email, "password": f"guess-{n}"})
            for n in range(30)
        ]
        # Six passwords are checked (and refused in the form); then the address waits.
        assert [a.status_code for a in answers[:6]] == [200] * 6
        assert all(a.status_code == 429 for a in answers[6:])
        assert {a["Retry-After"] for a in answers[6:]} == {"1"}
        # Even the right password is not checked from that address during the wait.
        refused = attacker.post(ADMIN_LOGIN, {"login": staff.email, "password": PASSWORD})
        assert refused.status_code == 429 and refused["Retry-After"] == "1"

        # The waits double for the address with each further failure.
        waits = []
        for n in range(4):
            clock.shift(int(refused["Retry-After"]))
            checked = attacker.post(ADMIN_LOGIN, {"login": staff.email, "password": f"more-{n}"})
            assert checked.status_code == 200
            refused = attacker.post(ADMIN_LOGIN, {"login": staff.email, "password": PASSWORD})
            waits.append(int(refused["Retry-After"]))
        assert waits == [2, 4, 8, 16]

        # The owner, from their own address, signs in at once (then the second factor).
        owner = Client(REMOTE_ADDR="198.51.100.7")
        password_step = owner.post(ADMIN_LOGIN, {"login": staff.email, "password": PASSWORD})
        assert password_step.status_code == 302
        assert password_step.url.startswith("/accounts/2fa/authenticate/")


def test_guessing_from_many_addresses_delays_the_account_briefly_only():
    user = UserFactory()
    with time_machine.travel("2026-11-26 04:00", tick=False) as clock:
        for n in range(40):
            Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
                "/accounts/login/", {"login": user.email, "password": f"guess-{n}"}
            )
        owner = Client(REMOTE_ADDR="198.51.100.7")
        waiting = owner.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert waiting.status_code == 429
        wait = int(waiting["Retry-After"])
        assert 1 <= wait <= 30  # the account's wait is capped: never a lock
        clock.shift(wait)
        signed_in = owner.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert signed_in.status_code == 302
        assert owner.get("/").wsgi_request.user == user
        # Signing in starts the account's count over: one more wrong try costs no wait.
        Client(REMOTE_ADDR="203.0.113.200").post(
            "/accounts/login/", {"login": user.email, "password": "nope"}
        )
        assert (
            Client(REMOTE_ADDR="198.51.100.8")
            .post("/accounts/login/", {"login": user.email, "password": PASSWORD})
            .status_code
            == 302
        )


def test_app_logins_share_the_backoff_and_say_when_to_retry():
    user = UserFactory()
    app = APIClient(REMOTE_ADDR="203.0.113.50")
    with time_machine.travel("2026-11-26 04:00", tick=False):
        statuses = [
            app.post(
                "/_allauth/app/v1/auth/login",
                {"email": user.email, "password": f"guess-{n}"},
                format="json",
            ).status_code
            for n in range(6)
        ]
        assert statuses == [400] * 6
        throttled = app.post(
            "/_allauth/app/v1/auth/login",
            {"email": user.email, "password": PASSWORD},
            format="json",
        )
        assert throttled.status_code == 429 and throttled["Retry-After"] == "1"
        assert throttled.json()["status"] == 429
        # The browser login from the same address waits too: one counter for both.
        browser = Client(REMOTE_ADDR="203.0.113.50")
        assert (
            browser.post(
                "/accounts/login/", {"login": user.email, "password": PASSWORD}
            ).status_code
            == 429
        )


def test_behind_a_load_balancer_each_client_is_counted_on_its_own(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    balancer = "10.0.0.2"  # every request arrives from it
    attacker = Client(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="203.0.113.9")
    # What the client writes before the balancer appends what it saw is not trusted.
    spoofing = Client(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    owner = Client(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="198.51.100.7")
    with time_machine.travel("2026-11-26 04:00", tick=False):
        for n in range(6):
            attacker.post("/accounts/login/", {"login": user.email, "password": f"guess-{n}"})
        assert (
            spoofing.post("/accounts/login/", {"login": user.email, "password": "x"}).status_code
            == 429
        )
        assert (
            owner.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code
            == 302
        )
