"""Celery tasks for processing: thin, take ids, call a service."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from processing.providers import get_provider
from processing.services import (
    RetryLater,
    job_run,
    jobs_enqueue,
    jobs_release_waiting,
    offpeak_release,
)
from processing.spend import spend_reconcile


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str | None:
    outcome = job_run(job_id=job_id)
    if isinstance(outcome, RetryLater):
        jobs_enqueue([job_id], countdown=outcome.countdown)
        return "retry"
    return outcome.status if outcome else None


@shared_task
def release_offpeak_jobs() -> int:
    return offpeak_release()


@shared_task
def release_waiting_jobs() -> int:
    return jobs_release_waiting()


@shared_task
def reconcile_ai_spend(day: str | None = None) -> list:
    """Yesterday's (server time) provider spend, unless a day (ISO) is given."""
    when = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return spend_reconcile(day=when, provider=get_provider()).differences
