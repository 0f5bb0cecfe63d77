"""The cold tier for originals: moved there when unused, brought back on access and before any
work on them. Thumbnails and previews stay hot, so galleries never wait."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from photolisting import storage
from projects.models import Photo

_TOUCH_EVERY = timedelta(hours=1)


def photo_archive(photo: Photo) -> None:
    storage.archive_original(photo.storage_key)
    Photo.objects.filter(pk=photo.pk).update(archived_at=timezone.now())


def photo_restore(photo: Photo) -> None:
    if photo.archived_at is None:
        return
    storage.restore_original(photo.storage_key)
    Photo.objects.filter(pk=photo.pk).update(archived_at=None, last_accessed_at=timezone.now())
    photo.archived_at = None


def photo_touch(photo: Photo) -> None:
    """Records an access (at most hourly); an archived original starts coming back."""
    now = timezone.now()
    if photo.last_accessed_at is None or now - photo.last_accessed_at > _TOUCH_EVERY:
        Photo.objects.filter(pk=photo.pk).update(last_accessed_at=now)
    if photo.archived_at is not None:
        from projects.tasks import restore_photo

        transaction.on_commit(lambda: restore_photo.delay(str(photo.pk)))
