"""Anomaly detection on generated histories, run as operators run it: ``manage.py
detect_anomalies``; notices by e-mail (Django's outbox) and Slack (a local webhook server)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts.tests.factories import StaffFactory
from analytics.models import Anomaly, UsageEvent
from analytics.tests.factories import at, events, history

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 11, 23)
NOW = "2026-11-23 18:00:00+00:00"  # a Monday evening
Kind = UsageEvent.Kind


@pytest.fixture
def slack(settings):
    from tests.fakes import slack_server

    server, state = slack_server.start()
    settings.SLACK_WEBHOOK_URL = state.url
    yield state
    server.shutdown()


@pytest.fixture
def staff():
    return StaffFactory(email="ops@photolisting.test")


def weekly_uploads(agency: str, weeks: int, *, monday: int, sunday: int, weekday: int) -> None:
    """``weeks`` weeks before MONDAY: busy Mondays, quiet Sundays, ordinary days between,
    each with a little noise."""
    rng = random.Random(agency)
    values = {}
    for offset in range(1, weeks * 7 + 1):
        day = MONDAY - timedelta(days=offset)
        base = {0: monday, 6: sunday}.get(day.weekday(), weekday)
        values[day] = max(0, round(base * rng.uniform(0.85, 1.15)))
    history(subject_type="agency", subject_key=agency, metric=Kind.UPLOAD, values=values)


def detect(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("detect_anomalies", *args, stdout=out)
    return out.getvalue()


@time_machine.travel(NOW, tick=False)
def test_a_spike_for_one_agency_is_flagged_with_its_evidence(staff, slack):
    weekly_uploads("7", 8, monday=100, sunday=5, weekday=40)
    weekly_uploads("8", 8, monday=100, sunday=5, weekday=40)
    events(Kind.UPLOAD, 450, day=MONDAY, agency_id=7, plan="agency")
    events(Kind.UPLOAD, 104, day=MONDAY, agency_id=8, plan="agency")

    detect()

    spike = Anomaly.objects.get()
    assert (spike.kind, spike.subject_type, spike.subject_key, spike.metric) == (
        "usage_spike",
        "agency",
        "7",
        "upload",
    )
    assert spike.state == Anomaly.State.OPEN and spike.severity == Anomaly.Severity.CRITICAL
    assert spike.evidence["value"] == 450
    baseline = spike.evidence["baseline"]
    assert len(baseline["values"]) == 8 and all(85 <= v <= 115 for v in baseline["values"])
    assert baseline["days"][0] == (MONDAY - timedelta(weeks=1)).isoformat()
    assert 85 <= baseline["median"] <= 115 and spike.evidence["score"] > 12
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@photolisting.test"]
    assert "agency 7: upload 450" in mail.outbox[0].body
    assert len(slack.messages) == 1 and "agency 7: upload 450" in slack.messages[0]["text"]


@time_machine.travel(NOW, tick=False)
def test_a_normal_weekly_pattern_over_eight_weeks_is_not_flagged(staff, slack):
    """Busy Mondays are compared with Mondays: today's 110 uploads are ordinary, though they
    are 20 times a Sunday and well above the average day."""
    weekly_uploads("7", 8, monday=100, sunday=5, weekday=40)
    events(Kind.UPLOAD, 110, day=MONDAY, agency_id=7, plan="agency")

    assert "0 anomaly(ies)" in detect()
    with time_machine.travel("2026-11-22 20:00:00+00:00", tick=False):  # the quiet Sunday
        events(Kind.UPLOAD, 6, day=MONDAY - timedelta(days=1), agency_id=7)
        assert "0 anomaly(ies)" in detect()
    assert not Anomaly.objects.exists() and not mail.outbox and not slack.messages


@time_machine.travel(NOW, tick=False)
def test_a_failure_rate_spike_in_one_operation_is_flagged(staff, slack):
    for offset in range(1, 15):
        day = MONDAY - timedelta(days=offset)
        for operation in ("virtual_staging", "auto_enhance"):
            events(Kind.JOB_SUCCEEDED, 48, day=day, operation=operation)
            events(Kind.JOB_FAILED, 2, day=day, operation=operation)
    events(Kind.JOB_SUCCEEDED, 30, day=MONDAY, operation="virtual_staging")
    events(Kind.JOB_FAILED, 20, day=MONDAY, operation="virtual_staging")
    events(Kind.JOB_SUCCEEDED, 49, day=MONDAY, operation="auto_enhance")
    events(Kind.JOB_FAILED, 1, day=MONDAY, operation="auto_enhance")
    call_command("aggregate_usage", since=(MONDAY - timedelta(days=14)).isoformat())

    detect()

    anomaly = Anomaly.objects.get()
    assert (anomaly.kind, anomaly.subject_key) == ("failure_rate", "virtual_staging")
    assert anomaly.evidence["failed"] == 20 and anomaly.evidence["total"] == 50
    assert anomaly.evidence["rate"] == 0.4
    assert anomaly.evidence["baseline"] == {
        "days": 14,
        "failed": 28.0,
        "total": 700.0,
        "rate": 0.04,
    }


@time_machine.travel(NOW, tick=False)
def test_running_detection_again_neither_duplicates_nor_notifies_again(staff, slack):
    weekly_uploads("7", 8, monday=100, sunday=5, weekday=40)
    events(Kind.UPLOAD, 450, day=MONDAY, agency_id=7)
    assert "1 new, 1 notified" in detect()
    events(Kind.UPLOAD, 50, day=MONDAY, agency_id=7)  # still climbing

    assert "0 new, 0 notified" in detect()
    assert "0 new, 0 notified" in detect()
    anomaly = Anomaly.objects.get()
    assert anomaly.evidence["value"] == 500  # the evidence follows the day
    assert len(mail.outbox) == 1 and len(slack.messages) == 1


@time_machine.travel(NOW, tick=False)
def test_provider_cost_over_the_daily_budget_and_an_old_backlog_are_flagged(staff, settings):
    from runtime.services import switch_set

    switch_set(name="ai_daily_budget_usd", text="25", user=staff)
    events(Kind.JOB_SUCCEEDED, 30, day=MONDAY, operation="virtual_staging", provider_cost="1.0")

    detect()

    budget = Anomaly.objects.get(kind="provider_budget")
    assert budget.evidence == {"spent_usd": 30.0, "budget_usd": 25.0}
    assert not Anomaly.objects.filter(kind="queue_backlog").exists()


@time_machine.travel(NOW, tick=False)
def test_a_signup_burst_is_flagged(staff):
    history(
        subject_type="all",
        subject_key="",
        metric=Kind.SIGNUP,
        values={MONDAY - timedelta(days=n): 48 for n in range(2, 8)},
    )
    events(Kind.SIGNUP, 48, day=MONDAY - timedelta(days=1))  # yesterday is rebuilt from events
    events(Kind.SIGNUP, 40, day=MONDAY)  # spread over 9:00–16:59: not the last hour
    last_hour = at(MONDAY, 17) + timedelta(minutes=30)
    UsageEvent.objects.bulk_create(
        [UsageEvent(kind=Kind.SIGNUP, occurred_at=last_hour) for _ in range(25)]
    )

    detect()

    burst = Anomaly.objects.get(kind="signup_burst")
    assert burst.evidence == {"last_hour": 25, "baseline": {"days": 7, "per_hour": 2.0}}


def test_staff_acknowledge_in_the_admin_and_it_is_recorded(client, staff):
    anomaly = Anomaly.objects.create(
        key="k", kind="usage_spike", severity="warning", day=MONDAY, summary="s"
    )
    client.force_login(staff)
    response = client.post(
        "/admin/analytics/anomaly/",
        {"action": "acknowledge", "_selected_action": [anomaly.pk]},
    )
    assert response.status_code == 302
    anomaly.refresh_from_db()
    assert anomaly.state == "acknowledged" and anomaly.acknowledged_by == staff
