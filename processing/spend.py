"""What the AI provider is paid, recorded exactly: a ledger row per paid answer, written the moment
it arrives (a job cancelled or deleted meanwhile still shows what it cost), the job's running
totals, today's spend for the budget guard, and the daily reconciliation against the result cache
and the provider's own usage numbers."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from processing.models import AIResult, Job, ProviderCall, SpendReconciliation
from processing.providers import EditResult, ImageEditProvider

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "total_tokens")


@transaction.atomic
def job_usage_count(job_id: uuid.UUID | str, **counts: int) -> None:
    """Adds to a job's provider counters (``requests`` made, ``cache_hits``), whatever its
    status."""
    job = Job.objects.select_for_update().filter(id=job_id).first()
    if job is None:
        return
    totals = dict(job.provider_usage or {})
    for name, amount in counts.items():
        totals[name] = totals.get(name, 0) + amount
    Job.objects.filter(id=job.id).update(provider_usage=totals)


@transaction.atomic
def job_request_take(job_id: uuid.UUID | str, *, limit: int) -> bool:
    """Counts one more provider request on the job if it has made fewer than ``limit``. Checked
    and counted under the row lock, so two runs of one job (a redelivered task) share the budget
    instead of each spending it from the count it read when it started."""
    job = Job.objects.select_for_update().filter(id=job_id).first()
    if job is None:
        return True  # deleted meanwhile: the ledger still records what is paid
    totals = dict(job.provider_usage or {})
    if totals.get("requests", 0) >= limit:
        return False
    totals["requests"] = totals.get("requests", 0) + 1
    Job.objects.filter(id=job.id).update(provider_usage=totals)
    return True


def provider_call_record(
    *, job: Job, provider: ImageEditProvider, operation: str, cache_key: str, answer: EditResult
) -> ProviderCall:
    """Records a paid answer against its job (or, the job gone, its account) and adds it to the
    job's totals. Called before anything else is done with the answer."""
    fields = {
        "job_ref": job.id,
        "subject": job.quota_subject,
        "user_id": job.created_by_id,
        "provider": provider.name,
        "model": answer.model,
        "operation": operation,
        "cache_key": cache_key,
        "usage": answer.usage,
        "cost": answer.cost,
        "created_at": timezone.now(),
    }
    with transaction.atomic():
        job_row = Job.objects.select_for_update().filter(id=job.id).first()
        try:
            with transaction.atomic():
                call = ProviderCall.objects.create(job=job_row, **fields)
        except IntegrityError:  # the job (or its user) went while we asked
            fields["user_id"] = None
            call = ProviderCall.objects.create(job=None, **fields)
        if job_row is not None:
            totals = dict(job_row.provider_usage or {})
            totals["calls"] = totals.get("calls", 0) + 1
            for name in TOKEN_FIELDS:
                totals[name] = totals.get(name, 0) + int(answer.usage.get(name) or 0)
            Job.objects.filter(id=job_row.id).update(
                provider_usage=totals, cost=Decimal(job_row.cost) + answer.cost
            )
    return call


def _day_bounds(day: date, tz=None) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, start + timedelta(days=1)


def spent_on(day: date) -> Decimal:
    """USD paid to the provider on a (server-time) day, from the ledger: what the budget counts."""
    start, end = _day_bounds(day)
    total = ProviderCall.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("cost")
    )["total"]
    return total or Decimal(0)


def spend_reconcile(*, day: date, provider: ImageEditProvider) -> SpendReconciliation:
    """Compares a day's ledger with the result cache (each paid answer is cached once) and with
    the provider's own numbers, to the cent; stores and logs any difference. Days are UTC days,
    as the provider counts them."""
    start, end = _day_bounds(day, UTC)
    ledger = ProviderCall.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        calls=Count("id"), cost=Sum("cost")
    )
    cached = (
        AIResult.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(storage_key="")
        .aggregate(calls=Count("id"), cost=Sum("cost"))
    )
    theirs = provider.usage_of_day(day)
    recorded_cost, cache_cost = ledger["cost"] or Decimal(0), cached["cost"] or Decimal(0)
    differences = []
    others = [("cache", cached["calls"], cache_cost)]
    if theirs is not None:
        others.append(("provider", theirs.calls, theirs.cost))
    for against, calls, cost in others:
        gap = _cents(cost - recorded_cost)
        if calls != ledger["calls"] or gap:
            differences.append(
                {"against": against, "calls": calls - ledger["calls"], "cost": str(gap)}
            )
    report, _ = SpendReconciliation.objects.update_or_create(
        day=day,
        defaults={
            "recorded_calls": ledger["calls"],
            "recorded_cost": recorded_cost,
            "cache_calls": cached["calls"],
            "cache_cost": cache_cost,
            "provider_calls": theirs.calls if theirs else None,
            "provider_cost": theirs.cost if theirs else None,
            "differences": differences,
        },
    )
    if differences:
        logger.warning("AI spend of %s does not reconcile: %s", day, differences)
    return report


def _cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT)
