"""Reads of quota usage."""

from __future__ import annotations

from billing.models import UsageCounter
from billing.services import QuotaSubject, current_period, plan_limit


def usage_summary(*, subject: QuotaSubject) -> list[dict]:
    period = current_period()
    used = dict(
        UsageCounter.objects.filter(subject=subject.key, period_start=period).values_list(
            "metric", "used"
        )
    )
    return [
        {
            "metric": metric.value,
            "label": metric.label,
            "used": used.get(metric.value, 0),
            "limit": plan_limit(subject.plan, metric.value),
            "period_start": period,
        }
        for metric in UsageCounter.Metric
    ]
