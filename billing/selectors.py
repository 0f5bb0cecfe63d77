"""Reads of plans, usage and invoices."""

from __future__ import annotations

from billing.models import UsageCounter
from billing.services import QuotaSubject, quota_limit


def usage_summary(*, subject: QuotaSubject) -> list[dict]:
    used = dict(
        UsageCounter.objects.filter(
            subject=subject.key, period_start=subject.period_start
        ).values_list("metric", "used")
    )
    rows = []
    for metric in UsageCounter.Metric:
        limit = quota_limit(subject, metric.value)
        count = used.get(metric.value, 0)
        rows.append(
            {
                "metric": metric.value,
                "label": metric.label,
                "used": count,
                "limit": limit,
                "percent": min(100, round(count * 100 / limit)) if limit else 100,
                "period_start": subject.period_start,
            }
        )
    return rows
