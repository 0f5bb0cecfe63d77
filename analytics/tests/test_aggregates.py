from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.aggregates import ACTIVE_USERS, AI_EDITS, PROVIDER_COST
from analytics.models import DailyAggregate, UsageEvent
from analytics.tests.factories import at

pytestmark = pytest.mark.django_db
DAYS = [date(2026, 11, 16) + timedelta(days=n) for n in range(4)]
KINDS = UsageEvent.Kind.values

event = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "day": st.sampled_from(DAYS),
        "hour": st.integers(0, 23),
        "user_id": st.one_of(st.none(), st.integers(1, 4)),
        "agency_id": st.one_of(st.none(), st.integers(1, 3)),
        "plan": st.sampled_from(["", "free", "premium", "agency"]),
        "operation": st.sampled_from(["", "auto_enhance", "virtual_staging"]),
        "cost": st.decimals(min_value=0, max_value=2, places=3),
        "ai": st.integers(0, 3),
    }
)


def _store(generated: list[dict]) -> None:
    UsageEvent.objects.all().delete()
    DailyAggregate.objects.all().delete()
    UsageEvent.objects.bulk_create(
        UsageEvent(
            kind=e["kind"],
            occurred_at=at(e["day"], e["hour"]),
            user_id=e["user_id"],
            agency_id=e["agency_id"],
            plan=e["plan"],
            operation=e["operation"],
            provider_cost=e["cost"],
            ai_edits=e["ai"],
        )
        for e in generated
    )


def _expected(generated: list[dict]) -> dict:
    """Straight counts over the generated events, the way a person would tally them."""
    expected: dict = defaultdict(Decimal)
    users: dict = defaultdict(set)
    for e in generated:
        subjects = [("all", "")]
        for subject_type, value in (
            ("plan", e["plan"]),
            ("agency", e["agency_id"]),
            ("user", e["user_id"]),
            ("operation", e["operation"]),
        ):
            if value not in (None, ""):
                subjects.append((subject_type, str(value)))
        for subject in subjects:
            expected[(e["day"], *subject, e["kind"])] += 1
            expected[(e["day"], *subject, PROVIDER_COST)] += e["cost"]
            expected[(e["day"], *subject, AI_EDITS)] += e["ai"]
            if e["user_id"] is not None and subject[0] != "user":
                users[(e["day"], *subject)].add(e["user_id"])
    for key, members in users.items():
        expected[(*key, ACTIVE_USERS)] = Decimal(len(members))
    return {key: value for key, value in expected.items() if value}


def _stored() -> dict:
    return {
        (row.day, row.subject_type, row.subject_key, row.metric): row.value
        for row in DailyAggregate.objects.all()
    }


@time_machine.travel("2026-11-20 08:00:00+00:00", tick=False)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=st.lists(event, max_size=40))
def test_aggregates_equal_direct_counts_for_every_day_subject_and_metric(generated):
    _store(generated)
    call_command("aggregate_usage", since=DAYS[0].isoformat(), until=DAYS[-1].isoformat())
    assert _stored() == _expected(generated)


@time_machine.travel("2026-11-20 08:00:00+00:00", tick=False)
def test_backfill_is_idempotent_and_picks_up_late_events():
    UsageEvent.objects.create(kind="upload", occurred_at=at(DAYS[0]), user_id=1, plan="free")
    call_command("aggregate_usage", since=DAYS[0].isoformat())
    first = _stored()
    call_command("aggregate_usage", since=DAYS[0].isoformat())
    assert _stored() == first
    assert first[(DAYS[0], "user", "1", "upload")] == 1
    assert DailyAggregate.objects.filter(metric="upload").count() == 3  # all, plan, user

    UsageEvent.objects.create(kind="upload", occurred_at=at(DAYS[0], 23), user_id=1, plan="free")
    call_command("aggregate_usage", since=DAYS[0].isoformat())
    assert _stored()[(DAYS[0], "user", "1", "upload")] == 2


def test_raw_events_are_pruned_after_retention_and_their_aggregates_stay(settings):
    settings.ANALYTICS_EVENT_RETENTION_DAYS = 30
    old_day, recent_day = date(2026, 9, 1), date(2026, 11, 10)
    with time_machine.travel("2026-11-20 08:00:00+00:00", tick=False):
        for day in (old_day, recent_day):
            UsageEvent.objects.create(kind="upload", occurred_at=at(day), user_id=7)
        with time_machine.travel("2026-09-02 08:00:00+00:00", tick=False):
            call_command("aggregate_usage", since=old_day.isoformat())
        from analytics.tasks import prune_usage_events

        assert prune_usage_events.apply().get() == 1
        assert list(UsageEvent.objects.values_list("occurred_at__date", flat=True)) == [recent_day]
        # A backfill over pruned days keeps their aggregates instead of writing zeros.
        call_command("aggregate_usage", since=old_day.isoformat())
    counts = Counter(DailyAggregate.objects.filter(metric="upload").values_list("day", flat=True))
    assert counts == {old_day: 2, recent_day: 2}  # everyone + the user, each day
