"""Reads of agencies and memberships, scoped to the requesting user."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Agency, Membership, User
from photolisting.api import get_visible


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("agency").order_by("agency__name")


def agency_get_for_member(*, user: User, agency_id: object) -> Agency:
    """An agency the user belongs to; any other agency (or a malformed id) is missing."""
    return get_visible(Agency.objects.filter(memberships__user=user), agency_id, "agency")
