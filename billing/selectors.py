"""Reads of plans, usage and invoices, and the usage page's charts."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from billing.charts import BarChart, bar_chart
from billing.entitlements import FEATURE_LABELS
from billing.models import Invoice, Plan, Subscription, UsageCounter, UsageRecord
from billing.services import (
    DEFAULT_PLAN,
    METRIC_LABELS,
    QuotaSubject,
    plan_name,
    quota_limit,
    quota_subject_of,
)

STATUS_LABELS = {
    Subscription.Status.FREE: gettext_lazy("Free"),
    Subscription.Status.INCOMPLETE: gettext_lazy("Payment incomplete"),
    Subscription.Status.TRIALING: gettext_lazy("Trial"),
    Subscription.Status.ACTIVE: gettext_lazy("Active"),
    Subscription.Status.PAST_DUE: gettext_lazy("Payment overdue"),
    Subscription.Status.UNPAID: gettext_lazy("Unpaid"),
    Subscription.Status.CANCELED: gettext_lazy("Cancelled"),
}


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
                "label": str(METRIC_LABELS[metric]),
                "used": count,
                "limit": limit,
                "percent": min(100, round(count * 100 / limit)) if limit else 100,
                "period_start": subject.period_start,
            }
        )
    return rows


def processing_counts(*, subject: QuotaSubject) -> dict:
    """Jobs run this period against photos counted: other presets tried on a photo already
    counted are free."""
    totals = UsageRecord.objects.filter(
        subject=subject.key,
        period_start=subject.period_start,
        metric=UsageCounter.Metric.PROCESSED,
    ).aggregate(jobs=Count("id"), counted=Sum("amount"))
    jobs, counted = totals["jobs"], totals["counted"] or 0
    return {"jobs": jobs, "counted_photos": counted, "free_jobs": jobs - counted}


def _plan_action(plan: Plan, subscription: Subscription) -> str:
    """What the plan card offers: nothing (current), an upgrade or downgrade through Stripe,
    going back to Free through the portal, or nothing to buy."""
    if plan.pk == subscription.plan_id:
        return "current"
    if plan.code == DEFAULT_PLAN:
        return "cancel" if subscription.stripe_subscription_id else "none"
    if not (plan.price_monthly or plan.price_yearly):
        return "none"
    return "upgrade" if plan.position > subscription.plan.position else "downgrade"


def billing_overview(*, subscription: Subscription) -> dict:
    """Everything the billing page and the apps show: plan, period, usage bars, invoices, offers."""
    subject = quota_subject_of(subscription)
    return {
        "subject": subscription.subject_key,
        "plan": {"code": subscription.plan.code, "name": plan_name(subscription.plan)},
        "status": subscription.status,
        "status_label": str(STATUS_LABELS.get(subscription.status, subscription.status)),
        "payments_enabled": bool(settings.STRIPE_SECRET_KEY),
        "interval": subscription.interval,
        "seats": subscription.quantity if subscription.plan.per_seat else None,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "grace_until": subscription.grace_until,
        "usage": usage_summary(subject=subject),
        "processing": processing_counts(subject=subject),
        "invoices": [
            {
                "number": invoice.number,
                "status": invoice.status,
                "amount_paid": invoice.amount_paid,
                "amount_due": invoice.amount_due,
                "amount": f"{invoice.amount_due / 100:.2f}",
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
                "name": plan_name(plan),
                "price": gettext(plan.price_label) if plan.price_label else "",
                "monthly_processed_quota": plan.monthly_processed_quota,
                "monthly_ai_quota": plan.monthly_ai_quota,
                "projects_limit": plan.projects_limit,
                "seats": plan.seats,
                "per_seat": plan.per_seat,
                "features": [
                    str(FEATURE_LABELS[name])
                    for name, included in plan.features.items()
                    if included and name in FEATURE_LABELS
                ],
                "intervals": [
                    interval
                    for interval, price in (
                        ("month", plan.price_monthly),
                        ("year", plan.price_yearly),
                    )
                    if price
                ],
                "current": plan.pk == subscription.plan_id,
                "purchasable": bool(plan.price_monthly or plan.price_yearly),
                "action": _plan_action(plan, subscription),
            }
            for plan in Plan.objects.all()
        ],
    }


# --- The usage page -------------------------------------------------------------------------


def period_end_of(subscription: Subscription, subject: QuotaSubject) -> date:
    """The last day of the period: Stripe's for a paid plan, else the calendar month's."""
    stripe_start = subscription.current_period_start
    if (
        stripe_start
        and subscription.current_period_end
        and subject.period_start == timezone.localdate(stripe_start)
    ):
        return timezone.localdate(subscription.current_period_end) - timedelta(days=1)
    start = subject.period_start
    next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


def _per_day(records, metric: str) -> dict[date, int]:
    return {
        row["day"]: row["total"] or 0
        for row in records.filter(metric=metric)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    }


def usage_report(*, subscription: Subscription) -> dict:
    """This period's usage of one subject: per day (as bar charts), per member, per project,
    and against the plan's quota."""
    subject = quota_subject_of(subscription)
    records = UsageRecord.objects.filter(subject=subject.key, period_start=subject.period_start)
    processed, ai = UsageCounter.Metric.PROCESSED, UsageCounter.Metric.AI
    end = period_end_of(subscription, subject)
    last = min(max(timezone.localdate(), subject.period_start), end)
    days = [
        subject.period_start + timedelta(days=n)
        for n in range((last - subject.period_start).days + 1)
    ]
    per_day = {metric: _per_day(records, metric) for metric in (processed, ai)}

    def chart(metric: str, chart_id: str, title: str) -> BarChart:
        points = [(date_format(day, "DATE_FORMAT"), per_day[metric].get(day, 0)) for day in days]
        return bar_chart(
            chart_id=chart_id,
            title=title,
            description=gettext("%(total)s in total from %(start)s to %(end)s, one bar per day.")
            % {
                "total": sum(value for _, value in points),
                "start": date_format(subject.period_start, "DATE_FORMAT"),
                "end": date_format(last, "DATE_FORMAT"),
            },
            points=points,
            axis_labels=[str(day.day) for day in days],
        )

    def grouped(field: str) -> list[dict]:
        rows: dict = {}
        for row in records.values(field, "metric").annotate(total=Sum("amount"), jobs=Count("id")):
            entry = rows.setdefault(row[field], {"processed": 0, "ai": 0, "jobs": 0})
            entry[row["metric"]] = row["total"] or 0
            if row["metric"] == processed:
                entry["jobs"] = row["jobs"]
        return [{"key": key, **values} for key, values in rows.items()]

    members = sorted(
        grouped("user__email") if subscription.agency_id else [],
        key=lambda row: (-row["processed"], row["key"] or ""),
    )
    projects = sorted(
        grouped("project__name"), key=lambda row: (-row["processed"], row["key"] or "")
    )
    return {
        "subject": subject.key,
        "plan": {"code": subject.plan.code, "name": plan_name(subject.plan)},
        "period_start": subject.period_start,
        "period_end": end,
        "days": [
            {
                "date": day,
                "processed": per_day[processed].get(day, 0),
                "ai": per_day[ai].get(day, 0),
            }
            for day in days
        ],
        "charts": [
            chart(processed, "chart-processed", gettext("Processed photos per day")),
            chart(ai, "chart-ai", gettext("AI edits per day")),
        ],
        "member_chart": _ranking_chart(
            "chart-members", gettext("Processed photos per member"), members
        )
        if members
        else None,
        "project_chart": _ranking_chart(
            "chart-projects", gettext("Processed photos per project"), projects
        )
        if projects
        else None,
        "quota": usage_summary(subject=subject),
        "processing": processing_counts(subject=subject),
        "members": members,
        "projects": projects,
    }


def _ranking_chart(chart_id: str, title: str, rows: list[dict]) -> BarChart:
    points = [(row["key"] or gettext("(deleted)"), row["processed"]) for row in rows[:12]]
    return bar_chart(
        chart_id=chart_id,
        title=title,
        description=gettext("%(total)s processed photos, one bar each, largest first.")
        % {"total": sum(value for _, value in points)},
        points=points,
    )


def plan_code_of(user_id: int | None, agency_id: int | None) -> str:
    """The plan a usage event counts under: the agency's when there is one, else the user's
    (analytics asks; see ``analytics.events.plan_resolver_set``)."""
    if agency_id is None and user_id is None:
        return ""
    owner = {"agency_id": agency_id} if agency_id is not None else {"user_id": user_id}
    code = Subscription.objects.filter(**owner).values_list("plan__code", flat=True).first()
    return code or DEFAULT_PLAN


MRR_STATUSES = [
    Subscription.Status.ACTIVE,
    Subscription.Status.TRIALING,
    Subscription.Status.PAST_DUE,
]


def monthly_recurring_revenue() -> dict[str, int]:
    """Currency → minor units per month: each paying subscription's latest paid invoice, a
    yearly one divided by 12 (plans carry Stripe price ids, not amounts)."""
    latest = Invoice.objects.filter(subscription=OuterRef("pk"), amount_paid__gt=0).order_by(
        "-created"
    )
    paying = (
        Subscription.objects.filter(status__in=MRR_STATUSES)
        .annotate(
            paid=Subquery(latest.values("amount_paid")[:1]),
            currency=Subquery(latest.values("currency")[:1]),
        )
        .exclude(paid=None)
        .values_list("paid", "currency", "interval")
    )
    totals: dict[str, int] = {}
    for paid, currency, interval in paying:
        monthly = paid // 12 if interval == "year" else paid
        totals[currency] = totals.get(currency, 0) + monthly
    return totals


def plan_mix() -> list[tuple[str, str, int]]:
    """(plan code, name, subscriptions on it); subjects without a row are on Free."""
    counts = dict(Subscription.objects.values_list("plan__code").annotate(n=Count("id")).order_by())
    return [(plan.code, plan.name, counts.get(plan.code, 0)) for plan in Plan.objects.all()]
