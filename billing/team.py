"""The team pages: your agencies, and an agency's members, roles, monthly caps, open invitations
and the seats its plan allows. They live in billing because seats are the plan's business."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from accounts import services as team
from accounts.models import MONTHLY_CAP_MAX, Agency, Invitation, Membership
from accounts.permissions import can_manage_agency
from accounts.selectors import agency_get_for_member, agency_logo_url, membership_list
from billing.entitlements import entitlements_for
from billing.services import plan_name, subscription_for
from photolisting.api import get_visible
from photolisting.errors import ApplicationError

ROLE_LABELS = {
    Membership.Role.OWNER: pgettext_lazy("agency role", "Owner"),
    Membership.Role.ADMIN: pgettext_lazy("agency role", "Admin"),
    Membership.Role.MEMBER: pgettext_lazy("agency role", "Member"),
}
NEW_MEMBER_ROLES = [
    (Membership.Role.MEMBER, ROLE_LABELS[Membership.Role.MEMBER]),
    (Membership.Role.ADMIN, ROLE_LABELS[Membership.Role.ADMIN]),
]

# What a refusal from the team services says on the page, by its stable code.
REFUSALS = {
    "seat_limit": gettext_lazy(
        "Every seat of the %(plan)s plan is taken (%(seats)s included). Upgrade the agency's "
        "plan on the billing page to add members."
    ),
    "not_agency_admin": gettext_lazy("Only the agency's owners and admins manage its team."),
    "already_member": gettext_lazy("%(email)s is already a member of %(agency)s."),
    "already_invited": gettext_lazy("%(email)s has already been invited."),
    "invalid_role": gettext_lazy("New members join as admin or member."),
    "invitation_used": gettext_lazy("This invitation has already been accepted."),
    "membership_not_found": gettext_lazy("No such member: they may have left already."),
    "invitation_not_found": gettext_lazy(
        "No such invitation: it may have been accepted or cancelled already."
    ),
}
OWNER_UPDATE_REFUSAL = gettext_lazy("Only the owner changes the owner's role and monthly caps.")
OWNER_ROLE_REFUSAL = gettext_lazy("The owner's role cannot be changed.")
OWNER_REMOVE_REFUSAL = gettext_lazy("The agency's owner cannot be removed or leave it.")


class AgencyForm(forms.Form):
    name = forms.CharField(max_length=200, label=gettext_lazy("Agency name"))


class BrandingForm(forms.Form):
    watermark_text = forms.CharField(
        max_length=120, required=False, label=gettext_lazy("Watermark text")
    )
    logo = forms.FileField(required=False, label=gettext_lazy("Logo (PNG, JPEG or WebP)"))


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    role = forms.ChoiceField(choices=NEW_MEMBER_ROLES, required=False, label=gettext_lazy("Role"))


class MemberForm(forms.Form):
    role = forms.ChoiceField(choices=NEW_MEMBER_ROLES, required=False, label=gettext_lazy("Role"))
    monthly_processed_limit = forms.IntegerField(
        min_value=0,
        max_value=MONTHLY_CAP_MAX,
        required=False,
        label=gettext_lazy("Processed photos per month"),
    )
    monthly_ai_limit = forms.IntegerField(
        min_value=0,
        max_value=MONTHLY_CAP_MAX,
        required=False,
        label=gettext_lazy("AI edits per month"),
    )


def _form_errors(form: forms.Form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


def _refused(request: HttpRequest, error: ApplicationError, **context) -> None:
    text = REFUSALS.get(error.code)
    if error.code == "seat_limit":
        context = {"seats": error.details.get("seats", "?"), **context}
    try:
        messages.error(request, text % context if text is not None else error.message)
    except KeyError:  # a refusal this page did not expect: the service's own words
        messages.error(request, error.message)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def _agency_or_none(request: HttpRequest, agency_id: str) -> Agency | None:
    try:
        return agency_get_for_member(user=request.user, agency_id=agency_id)
    except ApplicationError:
        return None


def _team_url(agency: Agency) -> str:
    return f"/team/{agency.pk}/"


# --- Pages ----------------------------------------------------------------------------------


@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    """The agencies I belong to, and a form to start one."""
    form = AgencyForm(request.POST) if request.method == "POST" else AgencyForm()
    if form.is_bound:
        if form.is_valid():
            agency = team.agency_create(user=request.user, name=form.cleaned_data["name"])
            messages.success(
                request,
                _("%(agency)s is created. Invite your colleagues below.") % {"agency": agency},
            )
            return redirect(_team_url(agency))
        messages.error(request, _form_errors(form))
    memberships = [
        {"membership": m, "role": ROLE_LABELS.get(m.role, m.role)}
        for m in membership_list(user=request.user)
    ]
    return render(request, "billing/team.html", {"memberships": memberships, "form": form})


@login_required
def team_agency_page(request: HttpRequest, agency_id: str) -> HttpResponse:
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    manager = can_manage_agency(request.user, agency)
    owner_self = False
    members = []
    for membership in agency.memberships.select_related("user").order_by("created_at"):
        is_owner = membership.role == Membership.Role.OWNER
        is_me = membership.user_id == request.user.id
        owner_self = owner_self or (is_owner and is_me)
        members.append(
            {
                "membership": membership,
                "role": ROLE_LABELS.get(membership.role, membership.role),
                "is_me": is_me,
                "is_owner": is_owner,
                # An admin neither changes nor caps the owner; the owner caps themself.
                "can_edit": manager and (not is_owner or is_me),
                "can_remove": manager and not is_owner and not is_me,
            }
        )
    plan = subscription_for(agency=agency).plan
    used = team.seats_held(agency=agency)
    entitlements = entitlements_for(agency=agency)
    return render(
        request,
        "billing/team_agency.html",
        {
            "agency": agency,
            "members": members,
            "invitations": [
                {
                    "invitation": invitation,
                    "role": ROLE_LABELS.get(invitation.role, invitation.role),
                }
                for invitation in team.invitations_open(agency=agency)
            ],
            "can_manage": manager,
            "can_leave": not owner_self,
            "plan": plan,
            "plan_label": plan_name(plan),
            "seats_used": used,
            "seats_left": max(0, plan.seats - used),
            "role_choices": NEW_MEMBER_ROLES,
            "branding_allowed": entitlements.allows("branding"),
            "branding_reason": entitlements.reason("branding"),
            "logo_url": agency_logo_url(agency),
        },
    )


# --- Actions --------------------------------------------------------------------------------


@login_required
@require_POST
def team_invite(request: HttpRequest, agency_id: str) -> HttpResponse:
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_team_url(agency))
    email = form.cleaned_data["email"].lower()  # as the team services store it
    role = form.cleaned_data["role"] or Membership.Role.MEMBER
    context = {"email": email, "agency": agency.name, "role": ROLE_LABELS[role]}
    try:
        added = team.membership_add(agency=agency, by=request.user, email=email, role=role)
    except ApplicationError as error:
        _refused(request, error, plan=plan_name(subscription_for(agency=agency).plan), **context)
        return redirect(_team_url(agency))
    if isinstance(added, Invitation):
        context["date"] = formats.date_format(added.expires_at, "DATE_FORMAT")
        messages.success(
            request,
            _(
                "An invitation was e-mailed to %(email)s. It holds a seat until %(date)s or "
                "until it is accepted."
            )
            % context,
        )
    else:
        messages.success(request, _("%(email)s joined %(agency)s as %(role)s.") % context)
    return redirect(_team_url(agency))


def _membership(agency: Agency, membership_id: str) -> Membership:
    return get_visible(
        agency.memberships.select_related("user", "agency"), membership_id, "membership"
    )


@login_required
@require_POST
def team_member_update(request: HttpRequest, agency_id: str, membership_id: str) -> HttpResponse:
    """Role and monthly caps; an empty cap means no cap beyond the agency's plan."""
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_team_url(agency))
    fields = dict(form.cleaned_data)
    if not fields["role"]:
        del fields["role"]
    try:
        membership = _membership(agency, membership_id)
        team.membership_update(membership=membership, by=request.user, **fields)
    except ApplicationError as error:
        if error.code == "owner_role":
            mine = membership.user_id == request.user.id
            messages.error(request, str(OWNER_ROLE_REFUSAL if mine else OWNER_UPDATE_REFUSAL))
        else:
            _refused(request, error, agency=agency.name)
        return redirect(_team_url(agency))
    messages.success(
        request,
        _("The role and monthly caps of %(email)s are saved.") % {"email": membership.user.email},
    )
    return redirect(_team_url(agency))


@login_required
@require_POST
def team_member_remove(request: HttpRequest, agency_id: str, membership_id: str) -> HttpResponse:
    """Removes a member, or — when it is your own membership — leaves the agency."""
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    try:
        membership = _membership(agency, membership_id)
        team.membership_remove(membership=membership, by=request.user)
    except ApplicationError as error:
        if error.code == "owner_role":
            messages.error(request, str(OWNER_REMOVE_REFUSAL))
        else:
            _refused(request, error, agency=agency.name)
        return redirect(_team_url(agency))
    if membership.user_id == request.user.id:
        messages.success(request, _("You left %(agency)s.") % {"agency": agency.name})
        return redirect("/team/")
    messages.success(
        request,
        _("%(email)s was removed from %(agency)s.")
        % {"email": membership.user.email, "agency": agency.name},
    )
    return redirect(_team_url(agency))


@login_required
@require_POST
def team_invitation_cancel(
    request: HttpRequest, agency_id: str, invitation_id: str
) -> HttpResponse:
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    try:
        invitation = get_visible(agency.invitations.all(), invitation_id, "invitation")
        team.invitation_cancel(invitation=invitation, by=request.user)
    except ApplicationError as error:
        _refused(request, error, agency=agency.name)
        return redirect(_team_url(agency))
    messages.success(
        request,
        _("The invitation to %(email)s is cancelled; its seat is free again.")
        % {"email": invitation.email},
    )
    return redirect(_team_url(agency))


@login_required
@require_POST
def team_branding(request: HttpRequest, agency_id: str) -> HttpResponse:
    """The agency's logo and watermark text, on plans that include branding."""
    agency = _agency_or_none(request, agency_id)
    if agency is None:
        return _not_found(request)
    form = BrandingForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_team_url(agency))
    upload = form.cleaned_data["logo"]
    try:
        entitlements_for(agency=agency).require("branding")
        team.agency_branding_update(
            agency=agency,
            by=request.user,
            watermark_text=form.cleaned_data["watermark_text"],
            logo=upload.read(team.LOGO_MAX_BYTES + 1) if upload else None,
        )
    except ApplicationError as error:
        _refused(request, error, agency=agency.name)
        return redirect(_team_url(agency))
    messages.success(request, _("The agency's branding is saved."))
    return redirect(_team_url(agency))
