"""Lifecycle of stored photos and accounts: temporary files purged, unused originals moved to
the cold tier (``projects.archive`` brings them back on access), inactive accounts warned then
removed.

Every function takes ``dry_run`` and returns what it did (or would do), for the commands' summaries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import user_delete, user_inactivity_clear, user_inactivity_notice
from photolisting import storage
from projects.archive import photo_archive
from projects.models import Photo, Project
from projects.services import project_purge
from projects.uploads import uploads_purge_abandoned

logger = logging.getLogger(__name__)
_TOUCH_EVERY = timedelta(hours=1)


@dataclass
class Summary:
    count: int = 0
    bytes: int = 0
    items: list[str] = field(default_factory=list)

    def add(self, label: str, size: int = 0) -> None:
        self.count += 1
        self.bytes += size
        self.items.append(label)


# --- Temporary files ------------------------------------------------------------------------


def purge_temp_files(*, dry_run: bool = False) -> Summary:
    """Abandoned direct uploads, and stale exports, older than the temp-file age."""
    summary = Summary()
    summary.count += uploads_purge_abandoned(dry_run=dry_run)
    cutoff = timezone.now() - timedelta(hours=settings.TEMP_FILE_MAX_AGE_HOURS)
    exports = storages["exports"]
    for key, size in storage.list_objects("exports"):
        if exports.get_modified_time(key) < cutoff:
            summary.add(f"exports/{key}", size)
            if not dry_run:
                exports.delete(key)
    return summary


# --- Cold tier ------------------------------------------------------------------------------


def archive_unused_photos(*, dry_run: bool = False, days: int | None = None) -> Summary:
    cutoff = timezone.now() - timedelta(days=days or settings.ARCHIVE_AFTER_DAYS)
    unused = Photo.objects.filter(archived_at=None, status=Photo.Status.READY).filter(
        Q(last_accessed_at__lt=cutoff) | Q(last_accessed_at=None, created_at__lt=cutoff)
    )
    summary = Summary()
    for photo in unused.iterator():
        summary.add(str(photo.id), photo.bytes)
        if not dry_run:
            photo_archive(photo)
    return summary


# --- Inactive accounts ----------------------------------------------------------------------


def _inactive_since(cutoff) -> Q:
    return Q(last_login__lt=cutoff) | Q(last_login=None, date_joined__lt=cutoff)


def notify_inactive_accounts(*, dry_run: bool = False) -> Summary:
    now = timezone.now()
    cutoff = now - timedelta(days=settings.INACTIVE_AFTER_DAYS)
    users = User.objects.filter(_inactive_since(cutoff), is_active=True, is_staff=False).filter(
        inactivity_notice_sent_at=None
    )
    purge_after = now + timedelta(days=settings.INACTIVE_NOTICE_DAYS)
    summary = Summary()
    for user in users:
        summary.add(user.email)
        if dry_run:
            continue
        user_inactivity_notice(user=user, sent_at=now, purge_after=purge_after)
        # No request to follow: the account's language is not known, so the site's is used.
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("PhotoListing: your account will be deleted")
            body = _(
                "You have not used PhotoListing since %(since)s. Unless you log in before "
                "%(deadline)s, your account, projects and photos will be deleted on that date. "
                "Log in to keep them: %(url)s"
            ) % {
                "since": date_format(user.last_login or user.date_joined, "d F Y"),
                "deadline": date_format(purge_after, "d F Y"),
                "url": f"{settings.SITE_URL}/accounts/login/",
            }
        send_mail(subject, body, None, [user.email])
    return summary


def purge_inactive_accounts(*, dry_run: bool = False) -> Summary:
    """Only after the notice period, and only if the user did not come back since the notice."""
    now = timezone.now()
    summary = Summary()
    due = User.objects.filter(purge_after__lte=now, is_staff=False)
    for user in due:
        if user.last_login and user.last_login > user.inactivity_notice_sent_at:
            if not dry_run:
                user_inactivity_clear(user=user)
            continue
        size = sum(Photo.objects.filter(project__owner=user).values_list("bytes", flat=True))
        summary.add(user.email, size)
        if dry_run:
            continue
        for project in Project.objects.filter(owner=user):
            project_purge(project=project)
        logger.warning("purged inactive account %s (%s bytes of photos)", user.email, size)
        user_delete(user=user)
    return summary
