"""Writes for agencies and their members: seats follow the agency's plan."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from accounts.models import Agency, Membership, User
from billing.services import QuotaExceeded, subscription_for
from photolisting.errors import ApplicationError, Conflict, NotFound, PermissionDenied


def _check_manager(agency: Agency, user: User) -> Membership:
    membership = Membership.objects.filter(agency=agency, user=user).first()
    if membership is None or not membership.can_manage:
        raise PermissionDenied(
            "Only the agency's owners and admins manage its team.", code="not_agency_admin"
        )
    return membership


def _after_seat_change(agency: Agency) -> None:
    from billing.tasks import sync_agency_seats

    transaction.on_commit(lambda: sync_agency_seats.delay(agency.id))


@transaction.atomic
def membership_add(
    *, agency: Agency, by: User, email: str, role: str = Membership.Role.MEMBER
) -> Membership:
    """Adds an existing account to the team, if the plan has a seat left."""
    _check_manager(agency, by)
    if role == Membership.Role.OWNER:
        raise ApplicationError("New members join as admin or member.", code="invalid_role")
    Agency.objects.select_for_update().get(pk=agency.pk)  # one seat count at a time
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise NotFound(
            f"No PhotoListing account uses {email}; ask them to sign up first.",
            code="account_not_found",
        )
    if Membership.objects.filter(agency=agency, user=user).exists():
        raise Conflict(f"{email} is already in {agency.name}.", code="already_member")
    plan = subscription_for(agency=agency).plan
    seats_used = Membership.objects.filter(agency=agency).count()
    if seats_used >= plan.seats:
        raise QuotaExceeded(
            f"The {plan.name} plan includes {plan.seats} seat{'s' if plan.seats != 1 else ''} "
            f"and all are taken. Upgrade the agency's plan on the billing page to add members.",
            code="seat_limit",
            details={"seats": plan.seats, "used": seats_used, "upgrade_url": "/billing/"},
        )
    membership = Membership.objects.create(agency=agency, user=user, role=role)
    _after_seat_change(agency)
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, by: User, **fields) -> Membership:
    """Role and per-member monthly caps inside the agency's pooled quota."""
    _check_manager(membership.agency, by)
    if membership.role == Membership.Role.OWNER and fields.get("role", "owner") != "owner":
        raise ApplicationError("The owner's role cannot be changed.", code="owner_role")
    for name, value in fields.items():
        setattr(membership, name, value)
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    if membership.user_id != by.id:
        _check_manager(membership.agency, by)
    if membership.role == Membership.Role.OWNER:
        raise ApplicationError("The agency's owner cannot be removed.", code="owner_role")
    agency = membership.agency
    membership.delete()
    _after_seat_change(agency)


@transaction.atomic
def agency_create(*, user: User, name: str) -> Agency:
    base = slugify(name)[:70] or "agency"
    slug, suffix = base, 1
    while Agency.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    agency = Agency.objects.create(name=name, slug=slug)
    Membership.objects.create(agency=agency, user=user, role=Membership.Role.OWNER)
    return agency
