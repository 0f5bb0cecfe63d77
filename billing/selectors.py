"""Reads of plans, usage and invoices."""

from __future__ import annotations

from billing.models import Plan, UsageCounter
from billing.services import QuotaSubject, quota_limit, quota_subject_of


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


def billing_overview(*, subscription) -> dict:
    """Everything the billing page and the apps show: plan, period, usage bars, invoices, offers."""
    subject = quota_subject_of(subscription)
    return {
        "subject": subscription.subject_key,
        "plan": {"code": subscription.plan.code, "name": subscription.plan.name},
        "status": subscription.status,
        "interval": subscription.interval,
        "seats": subscription.quantity if subscription.plan.per_seat else None,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "grace_until": subscription.grace_until,
        "usage": usage_summary(subject=subject),
        "invoices": [
            {
                "number": invoice.number,
                "status": invoice.status,
                "amount_paid": invoice.amount_paid,
                "amount_due": invoice.amount_due,
                "currency": invoice.currency,
                "created": invoice.created,
                "url": invoice.hosted_invoice_url,
                "pdf": invoice.invoice_pdf,
            }
            for invoice in subscription.invoices.all()[:24]
        ],
        "plans": [
            {
                "code": plan.code,
                "name": plan.name,
                "price": plan.price_label,
                "monthly_processed_quota": plan.monthly_processed_quota,
                "monthly_ai_quota": plan.monthly_ai_quota,
                "seats": plan.seats,
                "per_seat": plan.per_seat,
                "current": plan.pk == subscription.plan_id,
                "purchasable": bool(plan.price_monthly or plan.price_yearly),
            }
            for plan in Plan.objects.all()
        ],
    }
