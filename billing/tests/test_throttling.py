"""API rate limits follow the caller's plan: Free, Premium, an agency's plan, anonymous callers
per address; staff are not limited. (Two gunicorn processes sharing Redis: tests/test_gateway.py.)"""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from billing.tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _throttled(settings):
    settings.API_THROTTLE = True


def calls(client: APIClient, count: int, path: str = "/api/v1/me") -> list:
    return [client.get(path) for _ in range(count)]


def test_a_free_user_gets_thirty_calls_a_minute_then_429_with_retry_after(client_for):
    user = UserFactory()
    with time_machine.travel("2026-11-26 04:00:10", tick=False) as clock:
        answers = calls(client_for(user), 31)
        assert [a.status_code for a in answers] == [200] * 30 + [429]
        assert [a["X-RateLimit-Remaining"] for a in answers[:3]] == ["29", "28", "27"]
        assert {a["X-RateLimit-Limit"] for a in answers} == {"30"}
        refused = answers[-1]
        assert refused["Retry-After"] == "50" and refused["X-RateLimit-Reset"] == "50"
        assert refused["X-RateLimit-Remaining"] == "0"
        assert refused.json()["error"]["code"] == "throttled"
        clock.shift(50)  # the next minute
        assert client_for(user).get("/api/v1/me").status_code == 200


def test_each_plan_has_its_rate_and_an_agency_member_gets_the_agencys(client_for):
    premium = SubscriptionFactory(user=UserFactory()).user
    member = MembershipFactory().user
    SubscriptionFactory(agency=member.memberships.get().agency, plan_code="agency")
    with time_machine.travel("2026-11-26 04:00:00", tick=False):
        answers = calls(client_for(premium), 121)
        assert [a.status_code for a in answers].count(200) == 120
        assert answers[-1].status_code == 429
        assert client_for(member).get("/api/v1/me")["X-RateLimit-Limit"] == "600"


def test_staff_are_not_limited(client_for):
    staff = StaffFactory()
    with time_machine.travel("2026-11-26 04:00:00", tick=False):
        answers = calls(client_for(staff), 40)
        assert {a.status_code for a in answers} == {200}
        assert "X-RateLimit-Limit" not in answers[0]


def test_anonymous_callers_are_limited_per_address(settings):
    settings.API_ANONYMOUS_RATE = "5/min"
    with time_machine.travel("2026-11-26 04:00:00", tick=False):
        one = APIClient(REMOTE_ADDR="203.0.113.1")
        assert [one.get("/api/docs/").status_code for _ in range(6)] == [200] * 5 + [429]
        assert APIClient(REMOTE_ADDR="203.0.113.2").get("/api/docs/").status_code == 200
