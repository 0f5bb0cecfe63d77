"""Accepting an agency invitation in the browser."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.services import invitation_accept
from photolisting.errors import ApplicationError


@login_required
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Sign up or log in first (login_required brings them back here), then join."""
    try:
        membership = invitation_accept(token=token, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Welcome to %(agency)s.") % {"agency": membership.agency.name})
    return redirect("dashboard")
