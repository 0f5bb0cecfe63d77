"""Reads of agencies and memberships, scoped to the requesting user."""

from __future__ import annotations

import mimetypes

from django.db.models import QuerySet

from accounts.models import Agency, Membership, User
from photolisting.api import get_visible
from photolisting.storage import signed_url


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("agency").order_by("agency__name")


def agency_get_for_member(*, user: User, agency_id: object) -> Agency:
    """An agency the user belongs to; any other agency (or a malformed id) is missing."""
    return get_visible(Agency.objects.filter(memberships__user=user), agency_id, "agency")


def agency_logo_url(agency: Agency | None) -> str | None:
    """A signed link to the agency's logo, or None when it has none."""
    if agency is None or not agency.logo_key:
        return None
    content_type = mimetypes.guess_type(agency.logo_key)[0] or "image/png"
    extension = agency.logo_key.rsplit(".", 1)[-1] if "." in agency.logo_key else "png"
    return signed_url(
        "originals", agency.logo_key, content_type=content_type, filename=f"logo.{extension}"
    )
