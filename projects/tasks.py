"""Celery tasks for photos: thin, take ids, call a service."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import Task, shared_task
from django.db import DatabaseError
from django.utils import timezone

from photolisting import storage
from projects.archive import photo_access_record
from projects.models import Photo
from projects.services import photo_ingest, photo_ingest_fail, photos_sweep_stuck

logger = logging.getLogger(__name__)

# Our own infrastructure (storage, database) may come back: worth a few tries. A bad image never
# reaches here (ingest turns it into a rejection), and a bug will not fix itself.
INFRASTRUCTURE_ERRORS = (*storage.UNAVAILABLE_ERRORS, DatabaseError)
INGEST_RETRY_DELAYS = (2, 8, 30)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=len(INGEST_RETRY_DELAYS)
)
def ingest_photo(self: Task, photo_id: str) -> str | None:
    try:
        photo = photo_ingest(photo_id=photo_id)
    except INFRASTRUCTURE_ERRORS as error:
        if self.request.retries < self.max_retries:
            logger.warning("ingest of photo %s: %r, retrying", photo_id, error)
            raise self.retry(
                exc=error, countdown=INGEST_RETRY_DELAYS[self.request.retries]
            ) from error
        photo_ingest_fail(photo_id=photo_id)
        raise
    except Exception:
        photo_ingest_fail(photo_id=photo_id)
        raise
    return photo.status if photo else None


@shared_task(acks_late=True)
def photo_accessed(photo_id: str, accessed_at: str | None = None) -> None:
    """``accessed_at`` (ISO 8601) is when the request saw the photo; messages queued before it
    was passed have none and count as now."""
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is not None:
        at = datetime.fromisoformat(accessed_at) if accessed_at else timezone.now()
        photo_access_record(photo, accessed_at=at)


@shared_task
def sweep_stuck_photos() -> int:
    result = photos_sweep_stuck()
    return len(result.requeued) + len(result.failed)
