"""Anomaly detection as a whole: today's aggregates refreshed, the checks of
``analytics.anomalies`` plus those that read other apps (the job backlog, the provider budget
staff set as a runtime switch), stored and notified once."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from analytics.aggregates import PROVIDER_COST, usage_aggregate
from analytics.anomalies import DetectionResult, Finding, detect
from analytics.models import Anomaly, DailyAggregate
from processing.models import Job
from processing.selectors import job_backlog
from runtime.switches import value as switch_value


def queue_backlog(now=None) -> list[Finding]:
    """Standard-lane jobs waiting longer than ``QUEUE_BACKLOG_MINUTES`` (off-peak jobs wait
    for their window by design)."""
    now = now or timezone.now()
    depth, oldest = job_backlog(lane=Job.Lane.STANDARD)
    if oldest is None:
        return []
    minutes = (now - oldest).total_seconds() / 60
    if minutes < settings.QUEUE_BACKLOG_MINUTES:
        return []
    critical = minutes >= 4 * settings.QUEUE_BACKLOG_MINUTES
    hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [
        Finding(
            key=f"queue_backlog:{hour.isoformat()}",
            kind=Anomaly.Kind.QUEUE_BACKLOG,
            severity=Anomaly.Severity.CRITICAL if critical else Anomaly.Severity.WARNING,
            day=timezone.localdate(now),
            summary=f"{depth} job(s) waiting, the oldest for {minutes:.0f} minutes",
            evidence={
                "waiting": depth,
                "oldest_minutes": round(minutes, 1),
                "threshold_minutes": settings.QUEUE_BACKLOG_MINUTES,
            },
        )
    ]


def provider_budget(day: date) -> list[Finding]:
    """The day's provider cost above the daily budget staff set (runtime switch)."""
    budget = switch_value("ai_daily_budget_usd")
    if budget is None:
        return []
    spent = (
        DailyAggregate.objects.filter(
            day=day, subject_type=DailyAggregate.SubjectType.ALL, metric=PROVIDER_COST
        )
        .values_list("value", flat=True)
        .first()
    ) or 0
    if spent <= budget:
        return []
    return [
        Finding(
            key=f"provider_budget:{day.isoformat()}",
            kind=Anomaly.Kind.PROVIDER_BUDGET,
            severity=Anomaly.Severity.CRITICAL,
            day=day,
            metric=PROVIDER_COST,
            summary=f"Provider cost {spent:.2f} USD on {day}, over the {budget} USD budget",
            evidence={"spent_usd": float(spent), "budget_usd": float(budget)},
        )
    ]


def anomalies_detect(*, day: date | None = None) -> DetectionResult:
    """Detection for ``day`` (today by default) with its aggregates rebuilt first."""
    today = timezone.localdate()
    day = day or today
    usage_aggregate(since=day - timedelta(days=1) if day == today else day, until=day)
    extra = provider_budget(day)
    if day == today:
        extra += queue_backlog()
    return detect(day=day, extra=extra)
