"""The cold tier for originals: moved there when unused, brought back on access and before any
work on them. Thumbnails and previews stay hot, so galleries never wait."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from photolisting import storage
from projects.models import Photo

_TOUCH_EVERY = timedelta(hours=1)


def photo_archive(photo: Photo) -> None:
    storage.archive_original(photo.storage_key)
    Photo.objects.filter(pk=photo.pk).update(archived_at=timezone.now(), updated_at=timezone.now())


def photo_restore(photo: Photo, *, accessed_at: datetime | None = None) -> None:
    """The original back from the cold tier, for an access at ``accessed_at`` (now when not
    told: work about to use it); a later access already recorded is kept."""
    if photo.archived_at is None:
        return
    storage.restore_original(photo.storage_key)
    now = timezone.now()
    accessed_at = accessed_at or now
    Photo.objects.filter(pk=photo.pk).update(
        archived_at=None,
        updated_at=now,
        last_accessed_at=Greatest(Coalesce("last_accessed_at", Value(accessed_at)), accessed_at),
    )
    photo.archived_at = None


def photo_touch(
    photo_id: uuid.UUID, *, last_accessed_at: datetime | None, archived_at: datetime | None
) -> None:
    """An access: recorded (at most hourly) and an archived original brought back by a worker,
    so the GET that saw the photo writes nothing itself. The worker is told when the access
    happened: a queue that runs behind must not make a photo look used later than it was."""
    now = timezone.now()
    stale = last_accessed_at is None or now - last_accessed_at > _TOUCH_EVERY
    if stale or archived_at is not None:
        from projects.tasks import photo_accessed

        transaction.on_commit(lambda: photo_accessed.delay(str(photo_id), now.isoformat()))


def photo_access_record(photo: Photo, *, accessed_at: datetime) -> None:
    """What an access does, in a worker: the access time (never moved back by an earlier access
    processed late), and the original back if archived."""
    Photo.objects.filter(pk=photo.pk).filter(
        Q(last_accessed_at=None) | Q(last_accessed_at__lt=accessed_at)
    ).update(last_accessed_at=accessed_at)
    photo_restore(photo, accessed_at=accessed_at)
