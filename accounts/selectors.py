"""Reads of agencies and memberships, scoped to the requesting user."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Agency, Membership, User
from photolisting.errors import NotFound


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("agency").order_by("agency__name")


def agency_get_for_member(*, user: User, agency_id: int) -> Agency:
    """An agency the user belongs to; any other agency is reported as missing."""
    agency = Agency.objects.filter(id=agency_id, memberships__user=user).first()
    if agency is None:
        raise NotFound("No such agency.", code="agency_not_found")
    return agency
