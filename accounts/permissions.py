"""Who may see and who may manage what. The one place for the agency roles and for "owned by
this user or by one of their agencies", used by every app's selectors and services.

Rows owned by a user or an agency (projects, presets, webhooks, subscriptions…) name the two
fields ``owner``/``agency`` (or others, passed in): every rule here is a ``Q`` on those.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from accounts.models import Agency, Membership, User
from photolisting.errors import PermissionDenied


def member_agency_ids(user: User) -> QuerySet:
    return Membership.objects.filter(user=user).values("agency_id")


def _managers() -> QuerySet[Membership]:
    return Membership.objects.filter(role__in=Membership.MANAGER_ROLES)


def managed_agency_ids(user: User) -> QuerySet:
    return _managers().filter(user=user).values("agency_id")


def visible_to(user: User, *, owner: str = "owner", agency: str = "agency") -> Q:
    """Rows the user owns, or that belong to an agency the user is a member of."""
    return Q(**{owner: user}) | Q(**{f"{agency}_id__in": member_agency_ids(user)})


def manageable_by(user: User, *, owner: str = "owner", agency: str = "agency") -> Q:
    """Rows the user owns, or that belong to an agency the user owns or administers."""
    return Q(**{owner: user}) | Q(**{f"{agency}_id__in": managed_agency_ids(user)})


def can_manage_agency(user: User, agency: Agency | int) -> bool:
    agency_id = agency if isinstance(agency, int) else agency.pk
    return _managers().filter(user=user, agency_id=agency_id).exists()


def require_agency_member(user: User, agency: Agency) -> None:
    if not Membership.objects.filter(user=user, agency=agency).exists():
        raise PermissionDenied(
            gettext("You are not a member of this agency."), code="not_agency_member"
        )


def require_agency_manager(user: User, agency: Agency | int, *, message: str) -> None:
    """Raises PermissionDenied (``not_agency_admin``, with the caller's words for what was
    refused) unless the user owns or administers the agency."""
    if not can_manage_agency(user, agency):
        raise PermissionDenied(str(message), code="not_agency_admin")


def agency_manager_emails(agency: Agency | int) -> list[str]:
    """Where notices about an agency's account go (billing, webhooks switched off…)."""
    agency_id = agency if isinstance(agency, int) else agency.pk
    return list(_managers().filter(agency_id=agency_id).values_list("user__email", flat=True))
