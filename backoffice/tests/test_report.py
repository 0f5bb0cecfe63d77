"""The daily report e-mailed to staff, in English or French."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts.tests.factories import StaffFactory, UserFactory
from analytics.models import Anomaly, UsageEvent
from analytics.tests.factories import events
from billing.models import Invoice, Plan, Subscription

pytestmark = pytest.mark.django_db
YESTERDAY = date(2026, 11, 19)
Kind = UsageEvent.Kind


@pytest.fixture
def yesterday():
    StaffFactory(email="ops@photolisting.test")
    UserFactory(email="customer@example.com")  # not staff: no report
    events(Kind.UPLOAD, 12, day=YESTERDAY, user_id=1)
    events(Kind.JOB_SUCCEEDED, 9, day=YESTERDAY, user_id=2, operation="auto_enhance")
    events(Kind.JOB_FAILED, 3, day=YESTERDAY, user_id=2, operation="auto_enhance")
    events(
        Kind.JOB_SUCCEEDED,
        2,
        day=YESTERDAY,
        operation="virtual_staging",
        ai_edits=1,
        provider_cost="0.19",
    )
    events(Kind.UPLOAD, 99, day=date(2026, 11, 18))  # another day
    subscription = Subscription.objects.create(
        user=UserFactory(), plan=Plan.objects.get(code="premium"), status="active", interval="month"
    )
    Invoice.objects.create(
        stripe_id="in_1",
        subscription=subscription,
        status="paid",
        amount_due=2900,
        amount_paid=2900,
        currency="eur",
        created="2026-11-01T00:00:00Z",
    )
    Anomaly.objects.create(
        key="a",
        kind="usage_spike",
        severity="warning",
        day=YESTERDAY,
        summary="agency 7: upload 450",
    )
    call_command("aggregate_usage", since=YESTERDAY.isoformat())


@time_machine.travel("2026-11-20 06:00:00+00:00", tick=False)
def test_yesterday_in_figures_goes_to_staff(yesterday):
    from backoffice.tasks import send_daily_report

    assert send_daily_report.apply().get() == 1

    message = mail.outbox[0]
    assert message.to == ["ops@photolisting.test"]
    assert message.subject == "[PhotoListing] Daily report for 2026-11-19"
    body = message.body
    assert "Daily active users: 2" in body
    assert "Photos uploaded: 12" in body and "Photos processed: 11" in body
    assert "AI edits: 2" in body and "Provider cost (USD): 0.38" in body
    assert "auto_enhance: 3 / 12 (25 %)" in body
    assert "Monthly recurring revenue: 2900 EUR" in body
    assert "1 open anomaly" in body and "agency 7: upload 450" in body
    assert "http://127.0.0.1:8000/admin/dashboard/" in body


@time_machine.travel("2026-11-20 06:00:00+00:00", tick=False)
def test_the_report_speaks_french_when_staff_do(yesterday, settings):
    settings.STAFF_LANGUAGE = "fr"
    call_command("send_daily_report")
    message = mail.outbox[0]
    assert message.subject == "[PhotoListing] Rapport quotidien du 2026-11-19"
    assert "PhotoListing le jeudi 19 novembre 2026" in message.body
    assert "Photos envoyées: 12" in message.body
    assert "Taux d’échec par opération" in message.body
    assert "1 anomalie ouverte" in message.body
