"""Plans and quotas: who pays for a project's work, atomic reservation of usage per billing
period, usage warnings, and staff grants."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Agency, Membership, User
from accounts.permissions import agency_manager_emails
from billing.models import Plan, QuotaGrant, Subscription, UsageCounter, UsageRecord
from integrations.services import event_emit
from photolisting.errors import ApplicationError
from photolisting.observability import QUOTA_REFUSALS
from projects.models import Project

PLANS_FILE = Path(__file__).with_name("plans.json")
DEFAULT_PLAN = "free"
WARNING_THRESHOLDS = (80, 100)
# Statuses in which Stripe's billing period, not the calendar month, bounds usage.
_STRIPE_PERIOD_STATUSES = {
    Subscription.Status.ACTIVE,
    Subscription.Status.TRIALING,
    Subscription.Status.PAST_DUE,
}


METRIC_LABELS = {
    UsageCounter.Metric.PROCESSED: gettext_lazy("Processed photos"),
    UsageCounter.Metric.AI: gettext_lazy("AI edits"),
}


def plan_name(plan: Plan) -> str:
    """The plan's name in the active language: the shipped names (``plans.json``) are in the
    catalogue, a name edited in the admin shows as written; ``code`` stays the identifier."""
    return gettext(plan.name) if plan.name else plan.code


def metric_label(metric: str) -> str:
    """The metric's name inside a sentence ("processed photos"), in the active language."""
    return str(METRIC_LABELS[metric]).lower()


class QuotaExceeded(ApplicationError):
    status = 402
    code = "quota_exceeded"


@dataclass(frozen=True)
class QuotaSubject:
    """Whose quota a project's work counts against: its owner, or its agency (pooled)."""

    key: str  # "user:12" or "agency:3"
    plan: Plan
    period_start: date
    subscription: Subscription


def plans_sync() -> None:
    """Creates the shipped plans that are missing; plans already there keep their admin edits."""
    for entry in json.loads(PLANS_FILE.read_text()):
        Plan.objects.get_or_create(code=entry["code"], defaults=entry)


def subscription_for(*, user: User | None = None, agency: Agency | None = None) -> Subscription:
    """The subject's subscription row, created on the Free plan the first time it is needed."""
    owner = {"agency": agency} if agency is not None else {"user": user}
    subscription, _ = Subscription.objects.select_related("plan").get_or_create(
        **owner, defaults={"plan": Plan.objects.get(code=DEFAULT_PLAN)}
    )
    return subscription


def period_start_of(subscription: Subscription, today: date | None = None) -> date:
    """Usage resets when Stripe renews a paid plan; free plans reset every calendar month."""
    if subscription.status in _STRIPE_PERIOD_STATUSES and subscription.current_period_start:
        return timezone.localdate(subscription.current_period_start)
    return (today or timezone.localdate()).replace(day=1)


def quota_subject_of(subscription: Subscription) -> QuotaSubject:
    return QuotaSubject(
        subscription.subject_key, subscription.plan, period_start_of(subscription), subscription
    )


def quota_subject_for(project: Project) -> QuotaSubject:
    if project.agency_id:
        return quota_subject_of(subscription_for(agency=project.agency))
    return quota_subject_of(subscription_for(user=project.owner))


def plan_limit(plan: Plan, metric: str) -> int:
    return (
        plan.monthly_ai_quota if metric == UsageCounter.Metric.AI else plan.monthly_processed_quota
    )


def quota_limit(subject: QuotaSubject, metric: str) -> int:
    """The plan's quota plus any staff grants for this period."""
    granted = QuotaGrant.objects.filter(
        subject=subject.key, period_start=subject.period_start, metric=metric
    ).aggregate(total=Sum("amount"))["total"]
    return plan_limit(subject.plan, metric) + (granted or 0)


def member_key(membership: Membership) -> str:
    return f"member:{membership.agency_id}:{membership.user_id}"


def _member_limit(membership: Membership, metric: str) -> int | None:
    if metric == UsageCounter.Metric.AI:
        return membership.monthly_ai_limit
    return membership.monthly_processed_limit


def _take(key: str, period: date, metric: str, amount: int, limit: int) -> UsageCounter | None:
    """One conditional UPDATE: the database serialises concurrent takers on the row."""
    counter, _ = UsageCounter.objects.get_or_create(subject=key, period_start=period, metric=metric)
    taken = UsageCounter.objects.filter(pk=counter.pk, used__lte=limit - amount).update(
        used=F("used") + amount, updated_at=timezone.now()
    )
    counter.refresh_from_db()
    return counter if taken else None


@transaction.atomic
def quota_reserve(
    *, subject: QuotaSubject, amounts: dict[str, int], member: Membership | None = None
) -> None:
    """Takes ``amounts`` (metric → units) from the period's quota, all or nothing; with an
    agency ``member`` who has a personal cap, from that cap too."""
    for metric, amount in amounts.items():
        if amount <= 0:
            continue
        label = metric_label(metric)
        limit = quota_limit(subject, metric)
        counter = _take(subject.key, subject.period_start, metric, amount, limit)
        if counter is None:
            used = UsageCounter.objects.get(
                subject=subject.key, period_start=subject.period_start, metric=metric
            ).used
            QUOTA_REFUSALS.labels(metric, QuotaExceeded.code).inc()
            raise QuotaExceeded(
                gettext(
                    "Your %(plan)s plan includes %(limit)s %(label)s per period and "
                    "%(remain)s remain; this needs %(amount)s. "
                    "Upgrade your plan on the billing page for more."
                )
                % {
                    "plan": plan_name(subject.plan),
                    "limit": limit,
                    "label": label,
                    "remain": max(0, limit - used),
                    "amount": amount,
                },
                details={
                    "metric": metric,
                    "limit": limit,
                    "used": used,
                    "requested": amount,
                    "plan": subject.plan.code,
                    "upgrade_url": "/billing/",
                },
            )
        _warn_when_crossing(subject, counter, limit)
        cap = _member_limit(member, metric) if member else None
        member_over = (
            cap is not None
            and _take(member_key(member), subject.period_start, metric, amount, cap) is None
        )
        if member_over:
            QUOTA_REFUSALS.labels(metric, "member_limit_exceeded").inc()
            raise QuotaExceeded(
                gettext(
                    "Your agency allows you %(cap)s %(label)s per period; ask an agency admin "
                    "to raise your limit."
                )
                % {"cap": cap, "label": label},
                code="member_limit_exceeded",
                details={"metric": metric, "limit": cap, "requested": amount},
            )


@dataclass(frozen=True)
class PhotoWork:
    """One job to charge: its id, the photo it processes and the AI edits it may pay for."""

    reference: str
    photo_id: object
    ai: int = 0


@transaction.atomic
def quota_reserve_photos(
    *,
    subject: QuotaSubject,
    work: list[PhotoWork],
    preset: str,
    project_id: object,
    user_id: int | None,
    member: Membership | None = None,
) -> dict[str, int]:
    """Reserves quota for jobs, counting a photo once per period for processing whatever runs
    on it (other presets, or the same preset again); AI edits count every time. Returns job id →
    processed units charged (0 or 1).

    The subject's counter row is locked first, so concurrent reservations see each other's
    records and the conditional UPDATE of ``quota_reserve`` keeps the total exact."""
    processed = UsageCounter.Metric.PROCESSED
    counter, _ = UsageCounter.objects.get_or_create(
        subject=subject.key, period_start=subject.period_start, metric=processed
    )
    UsageCounter.objects.select_for_update().filter(pk=counter.pk).first()
    counted = set(
        UsageRecord.objects.filter(
            subject=subject.key,
            period_start=subject.period_start,
            metric=processed,
            photo_id__in=[item.photo_id for item in work],
        ).values_list("photo_id", flat=True)
    )
    charged: dict[str, int] = {}
    for item in work:
        charged[item.reference] = 0 if item.photo_id in counted else 1
        counted.add(item.photo_id)
    quota_reserve(
        subject=subject,
        amounts={
            processed: sum(charged.values()),
            UsageCounter.Metric.AI: sum(item.ai for item in work),
        },
        member=member,
    )
    common = {
        "subject": subject.key,
        "period_start": subject.period_start,
        "preset": preset[:120],
        "project_id": project_id,
        "user_id": user_id,
    }
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(
                metric=processed,
                amount=charged[item.reference],
                reference=item.reference,
                photo_id=item.photo_id,
                **common,
            )
            for item in work
        ]
        + [
            UsageRecord(
                metric=UsageCounter.Metric.AI,
                amount=item.ai,
                reference=item.reference,
                photo_id=item.photo_id,
                **common,
            )
            for item in work
            if item.ai
        ]
    )
    return charged


@transaction.atomic
def quota_release(
    *,
    subject_key: str,
    period: date,
    amounts: dict[str, int],
    member: str = "",
    reference: str = "",
) -> str:
    """Gives back units of a job that failed for good or was cancelled (or, for AI edits, that
    were served from the cache). With the job's ``reference``, its usage records go too; when
    its photo was counted by it and another job of the period ran on the same photo, the photo
    stays counted, charged to that job instead, whose id is returned."""
    amounts = dict(amounts)
    promoted = ""
    if reference:
        records = UsageRecord.objects.select_for_update().filter(
            reference=reference, metric__in=list(amounts)
        )
        for record in records:
            if record.metric == UsageCounter.Metric.PROCESSED and record.amount:
                heir = (
                    UsageRecord.objects.select_for_update()
                    .filter(
                        subject=record.subject,
                        period_start=record.period_start,
                        metric=record.metric,
                        photo_id=record.photo_id,
                        amount=0,
                    )
                    .exclude(reference=reference)
                    .order_by("created_at", "pk")
                    .first()
                )
                if heir is not None:
                    UsageRecord.objects.filter(pk=heir.pk).update(amount=record.amount)
                    promoted = heir.reference
                    amounts[record.metric] = 0
            left = record.amount - amounts[record.metric]
            if record.metric == UsageCounter.Metric.PROCESSED or left <= 0:
                record.delete()
            else:
                UsageRecord.objects.filter(pk=record.pk).update(amount=left)
    for key in filter(None, (subject_key, member)):
        for metric, amount in amounts.items():
            if amount > 0:
                UsageCounter.objects.filter(
                    subject=key, period_start=period, metric=metric, used__gte=amount
                ).update(used=F("used") - amount, updated_at=timezone.now())
    return promoted


def _warn_when_crossing(subject: QuotaSubject, counter: UsageCounter, limit: int) -> None:
    """Emails once per period when usage first reaches 80% and 100% of the quota."""
    percent = counter.used * 100 // limit if limit else 100
    reached = max((t for t in WARNING_THRESHOLDS if percent >= t), default=0)
    if reached <= counter.warned_percent:
        return
    claimed = UsageCounter.objects.filter(pk=counter.pk, warned_percent__lt=reached).update(
        warned_percent=reached
    )
    if claimed:
        label = metric_label(counter.metric)
        transaction.on_commit(lambda: _send_usage_warning(subject, label, reached, limit))
        owner = subject.subscription
        event_emit(
            user_id=owner.user_id,
            agency_id=owner.agency_id,
            event_type="quota.warning",
            data={
                "metric": counter.metric,
                "percent": reached,
                "used": counter.used,
                "limit": limit,
            },
        )


def billing_contacts(subscription: Subscription) -> list[str]:
    if subscription.agency_id:
        return agency_manager_emails(subscription.agency_id)
    return [subscription.user.email]


def _send_usage_warning(subject: QuotaSubject, label: str, percent: int, limit: int) -> None:
    values = {
        "percent": percent,
        "label": label,
        "limit": limit,
        "plan": plan_name(subject.plan),
        "url": f"{settings.SITE_URL}/billing/",
    }
    send_mail(
        gettext("PhotoListing: %(percent)s%% of your %(label)s used") % values,
        gettext(
            "You have used %(percent)s%% of the %(limit)s %(label)s included in your %(plan)s "
            "plan for this period.\nUpgrade or manage your plan: %(url)s"
        )
        % values,
        None,
        billing_contacts(subject.subscription),
    )


@transaction.atomic
def quota_grant(
    *, subject_key: str, metric: str, amount: int, reason: str, granted_by: User
) -> QuotaGrant:
    """A one-off extra allowance for the subject's current period, recorded with who and why."""
    kind, _, pk = subject_key.partition(":")
    subscription = (
        subscription_for(agency=Agency.objects.get(pk=pk))
        if kind == "agency"
        else subscription_for(user=User.objects.get(pk=pk))
    )
    return QuotaGrant.objects.create(
        subject=subject_key,
        period_start=period_start_of(subscription),
        metric=metric,
        amount=amount,
        reason=reason,
        granted_by=granted_by,
    )
