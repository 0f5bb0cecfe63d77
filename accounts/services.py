"""Writes for agencies and their members: seats follow the agency's plan (see signals)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.backends import user_snapshot_drop
from accounts.models import Agency, Invitation, Membership, User
from accounts.permissions import require_agency_manager
from accounts.signals import seat_requested, seats_changed
from imaging import decode
from photolisting.errors import ApplicationError, Conflict, NotFound, PermissionDenied

INVITATION_TTL = timedelta(days=14)


def _check_manager(agency: Agency, user: User) -> None:
    require_agency_manager(
        user, agency, message=_("Only the agency's owners and admins manage its team.")
    )


def _after_seat_change(agency: Agency) -> None:
    seats_changed.send(sender=Agency, agency=agency)


def _check_seat_free(agency: Agency) -> None:
    """Members and open invitations both hold a seat, so accepting never overfills the plan;
    whether one is left is the plan's business (billing answers ``seat_requested``)."""
    seats_used = (
        Membership.objects.filter(agency=agency).count() + _open_invitations(agency).count()
    )
    seat_requested.send(sender=Agency, agency=agency, seats_used=seats_used)


def _open_invitations(agency: Agency):
    return Invitation.objects.filter(agency=agency, accepted_at=None, expires_at__gt=timezone.now())


@transaction.atomic
def membership_add(
    *, agency: Agency, by: User, email: str, role: str = Membership.Role.MEMBER
) -> Membership | Invitation:
    """Adds an account to the team, or invites the address by email when it has none yet,
    if the plan has a seat left."""
    _check_manager(agency, by)
    if role == Membership.Role.OWNER:
        raise ApplicationError(_("New members join as admin or member."), code="invalid_role")
    Agency.objects.select_for_update().get(pk=agency.pk)  # one seat count at a time
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and Membership.objects.filter(agency=agency, user=user).exists():
        raise Conflict(
            _("%(email)s is already in %(agency)s.") % {"email": email, "agency": agency.name},
            code="already_member",
        )
    if user is None and _open_invitations(agency).filter(email__iexact=email).exists():
        raise Conflict(
            _("%(email)s has already been invited.") % {"email": email}, code="already_invited"
        )
    _check_seat_free(agency)
    if user is None:
        invitation = Invitation.objects.create(
            agency=agency,
            email=email,
            role=role,
            token=secrets.token_urlsafe(24),
            invited_by=by,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        # Sent in the inviter's language: the one active now, not whatever is active at commit.
        language = translation.get_language()
        transaction.on_commit(lambda: _send_invitation(invitation, language=language))
        return invitation
    membership = Membership.objects.create(agency=agency, user=user, role=role)
    _after_seat_change(agency)
    return membership


def _send_invitation(invitation: Invitation, *, language: str | None = None) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        values = {
            "inviter": invitation.invited_by or _("A colleague"),
            "agency": invitation.agency.name,
            "email": invitation.email,
            "url": f"{settings.SITE_URL}/invitations/{invitation.token}/",
            "date": date_format(invitation.expires_at, "d F Y"),
        }
        subject = _("%(inviter)s invites you to %(agency)s") % values
        body = (
            _(
                "Join %(agency)s on PhotoListing: sign up with this address (%(email)s), "
                "then open %(url)s before %(date)s."
            )
            % values
        )
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = (
        Invitation.objects.select_for_update().select_related("agency").filter(token=token).first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        raise NotFound(
            _("This invitation does not exist or has expired."), code="invitation_not_found"
        )
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been used."), code="invitation_used")
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(
            _("This invitation is for %(email)s; log in with that address.")
            % {"email": invitation.email},
            code="invitation_other_email",
        )
    membership, _created = Membership.objects.get_or_create(
        agency=invitation.agency, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    _after_seat_change(invitation.agency)
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, by: User, **fields) -> Membership:
    """Role and per-member monthly caps inside the agency's pooled quota."""
    _check_manager(membership.agency, by)
    if membership.role == Membership.Role.OWNER and membership.user_id != by.id:
        raise PermissionDenied(
            _("Only the owner changes the owner's role and limits."), code="owner_role"
        )
    if membership.role == Membership.Role.OWNER and fields.get("role", "owner") != "owner":
        raise ApplicationError(_("The owner's role cannot be changed."), code="owner_role")
    for name, value in fields.items():
        setattr(membership, name, value)
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    if membership.user_id != by.id:
        _check_manager(membership.agency, by)
    if membership.role == Membership.Role.OWNER:
        raise ApplicationError(_("The agency's owner cannot be removed."), code="owner_role")
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


LOGO_MAX_BYTES = 5 * 1024 * 1024
LOGO_LONG_EDGE = 600


def agency_branding_update(
    *, agency: Agency, by: User, watermark_text: str, logo: bytes | None = None
) -> Agency:
    """The agency's watermark text and logo, set by its owners and admins. Whether the plan
    includes branding is billing's to ask first. A new logo is checked like a photo and stored
    under a fresh key, so links to the old one never show the new one; the old file goes once
    the change has committed."""
    _check_manager(agency, by)
    fields = {"watermark_text": watermark_text.strip()[:120]}
    if logo is not None:
        if len(logo) > LOGO_MAX_BYTES:
            raise ApplicationError(
                _("The logo is too large; keep it under 5 MB."), code="logo_too_large"
            )
        try:
            png = decode.decode_logo(
                logo, max_pixels=settings.PHOTO_MAX_PIXELS, long_edge=LOGO_LONG_EDGE
            )
        except decode.ImageRejected as error:
            raise ApplicationError(
                _("This logo cannot be read: use a PNG, JPEG or WebP image."),
                code=f"logo_{error.code}",
            ) from error
        old_key = agency.logo_key
        fields["logo_key"] = storages["originals"].save(
            f"agencies/{agency.pk}/logo-{secrets.token_hex(6)}.png", ContentFile(png)
        )
        if old_key:
            transaction.on_commit(lambda: storages["originals"].delete(old_key))
    for name, value in fields.items():
        setattr(agency, name, value)
    agency.save(update_fields=list(fields))
    return agency


# --- Accounts' own lifecycle --------------------------------------------------------------------


def user_create_verified(*, email: str, password: str, first_name: str = "") -> User:
    """An account that can log in at once (the demo, support tooling): its address is verified."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, password, first_name=first_name)
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def user_inactivity_notice(*, user: User, sent_at, purge_after) -> None:
    User.objects.filter(pk=user.pk).update(
        inactivity_notice_sent_at=sent_at, purge_after=purge_after
    )
    user_snapshot_drop(user.pk)


def user_inactivity_clear(*, user: User) -> None:
    """The user came back after the notice: the account stays."""
    User.objects.filter(pk=user.pk).update(inactivity_notice_sent_at=None, purge_after=None)
    user_snapshot_drop(user.pk)


def user_delete(*, user: User) -> None:
    """The account and what hangs on it in the database; stored files are the caller's job."""
    user.delete()


@transaction.atomic
def user_disable(*, user: User) -> int:
    """Staff switch an account off: it can no longer sign in, and its open sessions end now.
    Returns the sessions ended."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user_snapshot_drop(user.pk)
    return user_sessions_end(user=user)


def user_sessions_end(*, user: User) -> int:
    """Ends every open session of the user, browser and app alike: an app's access and refresh
    tokens live in a session (stateful JWT validation), so they stop working at once. Returns
    the sessions ended.

    Sessions are not indexed by user, so they are read; this is a rare staff action. Each is
    ended through the session engine, so a copy in the cache (``cached_db``) goes too."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for session_key in ended:
        store.delete(session_key)
    return len(ended)


def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Sends an open invitation again, valid for a fresh period from now."""
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted."), code="invitation_accepted")
    invitation.expires_at = timezone.now() + INVITATION_TTL
    invitation.save(update_fields=["expires_at"])
    transaction.on_commit(lambda: _send_invitation(invitation))
    return invitation


# --- Team page: open invitations and the seats they hold ----------------------------------------


def invitations_open(*, agency: Agency):
    """Invitations still holding a seat (neither accepted nor expired), oldest first."""
    return _open_invitations(agency).select_related("invited_by").order_by("created_at")


def seats_held(*, agency: Agency) -> int:
    """Seats taken on the agency's plan: its members plus its open invitations."""
    return Membership.objects.filter(agency=agency).count() + _open_invitations(agency).count()


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, by: User) -> None:
    """Withdraws an invitation that has not been accepted: its seat is free again."""
    _check_manager(invitation.agency, by)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been accepted."), code="invitation_used")
    agency = invitation.agency
    invitation.delete()
    _after_seat_change(agency)
