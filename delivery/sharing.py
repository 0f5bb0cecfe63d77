"""Share links: a project's gallery for people without an account — expiring, optionally
password-protected, downloadable or not, revocable, counted."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from analytics.events import Kind, record
from delivery.models import ShareLink
from delivery.selectors import deliverable_photos
from photolisting.errors import ApplicationError, NotFound
from projects.models import Photo, Project
from projects.selectors import in_listing_order

DEFAULT_DAYS = 7
MAX_DAYS = 90
PASSWORD_TRIES_PER_MINUTE = 5
PASSWORD_MIN_LENGTH = 8  # with 5 tries a minute, short passwords fall in days


def share_link_create(
    *,
    user: User,
    project: Project,
    days: int = DEFAULT_DAYS,
    password: str = "",
    allow_download: bool = False,
    photos: list[Photo] | None = None,
) -> ShareLink:
    """A link to the project's gallery; with ``photos``, only those (in listing order)."""
    if not 1 <= days <= MAX_DAYS:
        raise ApplicationError(
            _("A share link lasts 1 to %(days)s days.") % {"days": MAX_DAYS}, code="invalid_expiry"
        )
    if password and len(password) < PASSWORD_MIN_LENGTH:
        raise ApplicationError(
            _("A share-link password needs at least %(count)s characters.")
            % {"count": PASSWORD_MIN_LENGTH},
            code="password_too_short",
        )
    return ShareLink.objects.create(
        token=secrets.token_urlsafe(24),
        project=project,
        created_by=user,
        expires_at=timezone.now() + timedelta(days=days),
        password_hash=make_password(password) if password else "",
        allow_download=allow_download,
        photo_ids=[str(photo.id) for photo in photos or []],
    )


def share_link_revoke(*, link: ShareLink) -> ShareLink:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


class ShareLinkGone(ApplicationError):
    status = 410
    code = "share_link_gone"


def share_link_open(token: str) -> ShareLink:
    """The live link for a token; a revoked or expired one is gone, an unknown one not found."""
    link = ShareLink.objects.select_related("project__agency").filter(token=token).first()
    if link is None:
        raise NotFound(_("This share link does not exist."), code="share_link_not_found")
    if link.revoked_at is not None:
        raise ShareLinkGone(_("This share link has been revoked."))
    if link.expires_at <= timezone.now():
        raise ShareLinkGone(_("This share link has expired."))
    return link


def share_link_check_password(link: ShareLink, password: str, client_ip: str) -> bool:
    """At most a few tries a minute per link and address, so a password cannot be guessed."""
    key = f"share-pw:{link.pk}:{client_ip}"
    tries = cache.get_or_set(key, 0, 60)
    if tries >= PASSWORD_TRIES_PER_MINUTE:
        raise ApplicationError(
            _("Too many attempts; wait a minute."), code="too_many_attempts", status=429
        )
    cache.incr(key)
    return check_password(password, link.password_hash)


def share_link_record_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(
        view_count=F("view_count") + 1, last_viewed_at=timezone.now()
    )
    record(
        Kind.SHARE_VIEW,
        user_id=link.created_by_id,
        agency_id=link.project.agency_id,
        project_id=link.project_id,
        metadata={"share_link": str(link.pk)},
    )


def shared_photos(link: ShareLink):
    """The chosen photos (those still ready), else every ready one that is not a duplicate;
    in listing order."""
    if link.photo_ids:
        photos = in_listing_order(
            link.project.photos.filter(id__in=link.photo_ids, status=Photo.Status.READY)
        )
    else:
        photos = deliverable_photos(link.project)
    return photos.prefetch_related("renditions", "versions__renditions")
