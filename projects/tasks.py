"""Celery tasks for photos: thin, take ids, call a service."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task

from projects.services import photo_ingest


# Storage hiccups (S3 5xx, a network blip) are retried; a bad image is a result, not an error.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError, BotoCoreError, ClientError),
    retry_backoff=True,
    max_retries=5,
)
def ingest_photo(photo_id: str) -> str | None:
    photo = photo_ingest(photo_id=photo_id)
    return photo.status if photo else None
