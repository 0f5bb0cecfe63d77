"""The admin dashboard: staff only, built from aggregates, filtered by dates and plan, and its
CSV; the admin index grouped in sections."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine

from accounts.tests.factories import AgencyFactory, StaffFactory, UserFactory
from analytics.tests.factories import history
from billing.models import Invoice, Plan, Subscription

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


@pytest.fixture
def staff(client):
    user = StaffFactory()
    client.force_login(user)
    return user


def test_only_staff_open_the_dashboard(client):
    assert client.get("/admin/dashboard/").url.startswith("/admin/login/")
    client.force_login(UserFactory())
    assert client.get("/admin/dashboard/").url.startswith("/admin/login/")


@time_machine.travel("2026-11-20 10:00:00+00:00", tick=False)
def test_charts_follow_the_date_range_and_plan(client, staff):
    days = {TODAY - timedelta(days=n): 10 + n for n in range(60)}
    history(subject_type="all", subject_key="", metric="upload", values=days)
    history(
        subject_type="plan",
        subject_key="premium",
        metric="upload",
        values={day: 3 for day in days},
    )
    history(subject_type="all", subject_key="", metric="provider_cost", values={TODAY: 12.345})

    page = client.get("/admin/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200
    uploads = next(c for c in page.context["charts"] if c.id == "chart-upload")
    assert len(uploads.bars) == 30 and uploads.total == sum(10 + n for n in range(30))
    assert 'id="chart-provider_cost"' in html and 'data-value="12.35"' in html
    for chart in (
        "chart-active_users",
        "chart-failure-rate",
        "chart-top-agencies",
        "chart-plan-mix",
    ):
        assert f'id="{chart}"' in html

    week = client.get("/admin/dashboard/", {"start": "2026-11-01", "end": "2026-11-07"})
    uploads = next(c for c in week.context["charts"] if c.id == "chart-upload")
    assert uploads.bars[0].label == "2026-11-01" and len(uploads.bars) == 7
    assert uploads.total == sum(days[date(2026, 11, d)] for d in range(1, 8))

    premium = client.get(
        "/admin/dashboard/", {"start": "2026-11-01", "end": "2026-11-07", "plan": "premium"}
    )
    uploads = next(c for c in premium.context["charts"] if c.id == "chart-upload")
    assert uploads.total == 21


@time_machine.travel("2026-11-20 10:00:00+00:00", tick=False)
def test_csv_has_what_is_shown(client, staff):
    history(subject_type="all", subject_key="", metric="upload", values={TODAY: 40})
    history(subject_type="all", subject_key="", metric="job_succeeded", values={TODAY: 30})
    for metric, value in (("job_succeeded", 15), ("job_failed", 5)):
        history(
            subject_type="operation",
            subject_key="virtual_staging",
            metric=metric,
            values={TODAY: value},
        )
    busy, quiet = AgencyFactory(name="Busy Homes"), AgencyFactory(name="Quiet Homes")
    history(subject_type="agency", subject_key=str(busy.pk), metric="upload", values={TODAY: 30})
    history(subject_type="agency", subject_key=str(quiet.pk), metric="upload", values={TODAY: 3})

    response = client.get(
        "/admin/dashboard/", {"start": "2026-11-19", "end": "2026-11-20", "format": "csv"}
    )

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="photolisting-2026-11-19-2026-11-20.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["day", "active_users", "upload", "job_succeeded"]
    assert rows[1][0] == "2026-11-19" and rows[1][2] == "0"
    assert rows[2][0] == "2026-11-20" and rows[2][2] == "40.000000" and rows[2][3] == "30.000000"
    assert ["virtual_staging", "5", "20", "0.2500"] in rows
    ranked = rows[rows.index(["agency", "photos_uploaded_and_processed"]) + 1 :]
    assert ranked == [["Busy Homes", "30"], ["Quiet Homes", "3"]]


def test_mrr_counts_each_paying_subscription_once_per_month(client, staff):
    premium, agency_plan = Plan.objects.get(code="premium"), Plan.objects.get(code="agency")
    monthly = Subscription.objects.create(
        user=UserFactory(), plan=premium, status="active", interval="month"
    )
    yearly = Subscription.objects.create(
        agency=AgencyFactory(), plan=agency_plan, status="active", interval="year"
    )
    Subscription.objects.create(
        user=UserFactory(), plan=premium, status="canceled", interval="month"
    )
    for subscription, amount in ((monthly, 2900), (yearly, 120000)):
        Invoice.objects.create(
            stripe_id=f"in_{subscription.pk}",
            subscription=subscription,
            status="paid",
            amount_due=amount,
            amount_paid=amount,
            currency="eur",
            created="2026-11-01T00:00:00Z",
        )
    page = client.get("/admin/dashboard/")
    assert page.context["mrr"] == [("eur", 2900 + 10000)]
    mix = dict((code, count) for code, _, count in page.context["plan_mix"])
    assert mix["premium"] == 2 and mix["agency"] == 1


def test_admin_index_is_grouped_in_sections(client, staff):
    page = client.get("/admin/")
    sections = [app["name"] for app in page.context["app_list"]]
    assert sections == ["Customers", "Photos & jobs", "Billing", "Analytics", "System"]
    by_section = {
        app["name"]: {m["object_name"] for m in app["models"]} for app in page.context["app_list"]
    }
    assert {"User", "Agency", "Membership", "Invitation"} <= by_section["Customers"]
    assert {"Photo", "Job", "Preset"} <= by_section["Photos & jobs"]
    assert {"AuditEntry", "Anomaly"} <= by_section["Analytics"]
    assert "Switch" in by_section["System"]
    assert b"/admin/dashboard/" in page.content
    french = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.context["app_list"][0]["name"] == "Clients"


@time_machine.travel("2026-11-20 10:00:00+00:00", tick=False)
def test_long_ranges_are_charted_per_week_then_per_month_and_the_csv_keeps_days(client, staff):
    days = {TODAY - timedelta(days=n): 10 for n in range(730)}
    history(subject_type="all", subject_key="", metric="upload", values=days)
    history(subject_type="all", subject_key="", metric="active_users", values=days)

    year = client.get("/admin/dashboard/", {"start": "2025-11-24", "end": "2026-11-22"})
    uploads = next(c for c in year.context["charts"] if c.id == "chart-upload")
    assert len(uploads.bars) == 52 and {bar.value for bar in uploads.bars[:-1]} == {70}
    assert uploads.bars[-1].value == 50  # history ends on Friday the 20th
    assert uploads.bars[0].label == "2025-11-24 …" and "per week" in uploads.description
    assert year.context["filters"].end == TODAY  # the 21st and 22nd are still to come
    active = next(c for c in year.context["charts"] if c.id == "chart-active_users")
    assert {bar.value for bar in active.bars} == {10}  # a mean, not a sum

    two_years = client.get("/admin/dashboard/", {"start": "2024-12-01", "end": "2026-11-20"})
    uploads = next(c for c in two_years.context["charts"] if c.id == "chart-upload")
    assert len(uploads.bars) == 24 and uploads.bars[0].label == "2024-12"
    assert uploads.bars[0].value == 310 and uploads.bars[-1].value == 200  # 1–20 November
    rows = (
        client.get(
            "/admin/dashboard/", {"start": "2024-12-01", "end": "2026-11-20", "format": "csv"}
        )
        .content.decode()
        .splitlines()
    )
    assert rows[1].startswith("2024-12-01,10.000000,10.000000") and len(rows) > 720
