"""Celery tasks for processing: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from processing.services import RetryLater, job_run, jobs_enqueue, offpeak_release


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
