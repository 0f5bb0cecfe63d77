"""Plans and quotas: who pays for a project's work, and atomic reservation of monthly usage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Plan, Subscription, UsageCounter
from photolisting.errors import ApplicationError
from projects.models import Project

PLANS_FILE = Path(__file__).with_name("plans.json")
DEFAULT_PLAN = "free"


class QuotaExceeded(ApplicationError):
    status = 402
    code = "quota_exceeded"


@dataclass(frozen=True)
class QuotaSubject:
    """Whose monthly quota a project's work counts against: its owner, or its agency (pooled)."""

    key: str  # "user:12" or "agency:3"
    plan: Plan


def plans_sync() -> None:
    """Creates the shipped plans that are missing; plans already there keep their admin edits."""
    for entry in json.loads(PLANS_FILE.read_text()):
        Plan.objects.get_or_create(code=entry["code"], defaults=entry)


def current_period(today: date | None = None) -> date:
    """Usage periods are calendar months until Stripe billing periods take over."""
    return (today or timezone.now().date()).replace(day=1)


def quota_subject_for(project: Project) -> QuotaSubject:
    if project.agency_id:
        subscription = Subscription.objects.select_related("plan").filter(
            agency_id=project.agency_id
        )
        key = f"agency:{project.agency_id}"
    else:
        subscription = Subscription.objects.select_related("plan").filter(user_id=project.owner_id)
        key = f"user:{project.owner_id}"
    found = subscription.first()
    return QuotaSubject(key, found.plan if found else Plan.objects.get(code=DEFAULT_PLAN))


def plan_limit(plan: Plan, metric: str) -> int:
    return (
        plan.monthly_ai_quota if metric == UsageCounter.Metric.AI else plan.monthly_processed_quota
    )


@transaction.atomic
def quota_reserve(*, subject: QuotaSubject, period: date, amounts: dict[str, int]) -> None:
    """Takes ``amounts`` (metric → units) from this period's quota, all or nothing.

    Each metric is one conditional UPDATE (``used + n <= limit``): the database serialises
    concurrent reservations on the row, so a quota can never be overrun.
    """
    for metric, amount in amounts.items():
        if amount <= 0:
            continue
        counter, _ = UsageCounter.objects.get_or_create(
            subject=subject.key, period_start=period, metric=metric
        )
        limit = plan_limit(subject.plan, metric)
        taken = UsageCounter.objects.filter(pk=counter.pk, used__lte=limit - amount).update(
            used=F("used") + amount, updated_at=timezone.now()
        )
        if not taken:
            counter.refresh_from_db()
            label = UsageCounter.Metric(metric).label.lower()
            raise QuotaExceeded(
                f"Your {subject.plan.name} plan includes {limit} {label} a month and "
                f"{max(0, limit - counter.used)} remain; this needs {amount}. "
                "Upgrade your plan on the billing page for more.",
                details={
                    "metric": metric,
                    "limit": limit,
                    "used": counter.used,
                    "requested": amount,
                    "plan": subject.plan.code,
                    "upgrade_url": "/billing/",
                },
            )


def quota_release(*, subject_key: str, period: date, amounts: dict[str, int]) -> None:
    """Gives back units of a job that failed for good or was cancelled."""
    for metric, amount in amounts.items():
        if amount > 0:
            UsageCounter.objects.filter(
                subject=subject_key, period_start=period, metric=metric, used__gte=amount
            ).update(used=F("used") - amount, updated_at=timezone.now())
