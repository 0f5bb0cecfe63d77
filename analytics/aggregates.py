"""Daily aggregates: per day × subject (everyone, plan, agency, user, operation) × metric, built
from the raw events; and the pruning of raw events once they are past retention.

A day is rebuilt whole (its rows deleted and written again in one transaction), so running the
build again, or over a range already built, gives the same rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from analytics.models import DailyAggregate, UsageEvent

SubjectType = DailyAggregate.SubjectType

# Which event column names the subject, per subject type (None: everyone).
SUBJECT_FIELDS: dict[str, str | None] = {
    SubjectType.ALL: None,
    SubjectType.PLAN: "plan",
    SubjectType.AGENCY: "agency_id",
    SubjectType.USER: "user_id",
    SubjectType.OPERATION: "operation",
}
# Metrics besides one count per event kind.
PROVIDER_COST = "provider_cost"
AI_EDITS = "ai_edits"
ACTIVE_USERS = "active_users"  # distinct users with any event that day (not per user)
METRICS = [*UsageEvent.Kind.values, PROVIDER_COST, AI_EDITS, ACTIVE_USERS]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day from local midnight to the next, in the server's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def retention_cutoff(today: date | None = None) -> date:
    """The first day whose raw events are still kept."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.ANALYTICS_EVENT_RETENTION_DAYS)


def _rows_for_day(day: date) -> list[DailyAggregate]:
    start, end = day_bounds(day)
    events = UsageEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    values: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for subject_type, field in SUBJECT_FIELDS.items():
        group = [field] if field else []
        per_kind = events.values(*group, "kind").annotate(
            n=Count("id"), cost=Sum("provider_cost"), ai=Sum("ai_edits")
        )
        for row in per_kind:
            key = "" if field is None else str(row[field] if row[field] is not None else "")
            if field and not key:
                continue  # events without this subject (no agency, no plan) count only above
            values[subject_type, key, row["kind"]] += row["n"]
            values[subject_type, key, PROVIDER_COST] += row["cost"] or 0
            values[subject_type, key, AI_EDITS] += row["ai"] or 0
        if subject_type == SubjectType.USER:
            continue
        with_user = events.exclude(user_id=None)
        active = (
            with_user.values(*group).annotate(n=Count("user_id", distinct=True))
            if field
            else [with_user.aggregate(n=Count("user_id", distinct=True))]
        )
        for row in active:
            key = "" if field is None else str(row[field] if row[field] is not None else "")
            if field and not key:
                continue
            values[subject_type, key, ACTIVE_USERS] = Decimal(row["n"])
    return [
        DailyAggregate(
            day=day, subject_type=subject_type, subject_key=key, metric=metric, value=value
        )
        for (subject_type, key, metric), value in values.items()
        if value
    ]


@transaction.atomic
def aggregate_day(day: date) -> int:
    """Rebuilds one day's aggregates from its events; returns how many rows it holds."""
    rows = _rows_for_day(day)
    DailyAggregate.objects.filter(day=day).delete()
    DailyAggregate.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@dataclass(frozen=True)
class AggregateResult:
    days: int
    rows: int
    skipped_before: date | None  # days before this had no raw events left to rebuild from


def usage_aggregate(*, since: date, until: date | None = None) -> AggregateResult:
    """Rebuilds every day from ``since`` to ``until`` (today by default). Days whose raw events
    were already pruned keep their aggregates: rebuilding them would write zeros."""
    until = until or timezone.localdate()
    cutoff = retention_cutoff()
    first = max(since, cutoff)
    days = rows = 0
    day = first
    while day <= until:
        rows += aggregate_day(day)
        days += 1
        day += timedelta(days=1)
    return AggregateResult(days=days, rows=rows, skipped_before=cutoff if since < cutoff else None)


def events_prune(*, today: date | None = None) -> int:
    """Deletes raw events older than the retention period; their aggregates stay."""
    start, _ = day_bounds(retention_cutoff(today))
    deleted, _ = UsageEvent.objects.filter(occurred_at__lt=start).delete()
    return deleted
