from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from analytics.models import DailyAggregate, UsageEvent


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def events(kind: str, count: int, *, day: date, **fields) -> None:
    UsageEvent.objects.bulk_create(
        [UsageEvent(kind=kind, occurred_at=at(day, 9 + n % 8), **fields) for n in range(count)]
    )


def history(*, subject_type: str, subject_key: str, metric: str, values: dict[date, float]) -> None:
    """Aggregates written directly, as if earlier days had been built from their events."""
    DailyAggregate.objects.bulk_create(
        DailyAggregate(
            day=day,
            subject_type=subject_type,
            subject_key=subject_key,
            metric=metric,
            value=Decimal(str(value)),
        )
        for day, value in values.items()
        if value
    )
