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


@shared_task(acks_late=True)
def restore_photo(photo_id: str) -> None:
    from projects.lifecycle import photo_restore
    from projects.models import Photo

    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is not None:
        photo_restore(photo)


@shared_task
def purge_temp_files() -> int:
    from projects import lifecycle

    return lifecycle.purge_temp_files().count


@shared_task
def archive_unused_photos() -> int:
    from projects import lifecycle

    return lifecycle.archive_unused_photos().count


@shared_task
def notify_inactive_accounts() -> int:
    from projects import lifecycle

    return lifecycle.notify_inactive_accounts().count


@shared_task
def purge_inactive_accounts() -> int:
    from projects import lifecycle

    return lifecycle.purge_inactive_accounts().count


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_export(export_id: str) -> str | None:
    from projects.exports import export_build

    export = export_build(export_id=export_id)
    return export.status if export else None
