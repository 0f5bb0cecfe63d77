"""Celery tasks for billing: thin, call a service."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Agency
from billing.subscriptions import payment_grace_enforce, seats_sync


@shared_task
def enforce_payment_grace() -> int:
    return payment_grace_enforce()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def sync_agency_seats(agency_id: int) -> None:
    seats_sync(Agency.objects.get(pk=agency_id))
