"""The admin site: staff sign in through allauth (so login backoff and the MFA step apply) and
must have set up an authenticator app or a passkey before any admin page opens."""

from __future__ import annotations

from functools import update_wrapper

from allauth.account.decorators import secure_admin_login
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

# A recovery-code set alone is not a second factor one can sign in with day to day.
STAFF_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


class AdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # Django's own admin login would skip allauth: no backoff, no MFA step.
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable: bool = False):
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if user.is_active and user.is_staff and not is_mfa_enabled(user, STAFF_FACTORS):
                messages.warning(
                    request,
                    gettext("Set up two-factor authentication before using the admin."),
                )
                return redirect("mfa_activate_totp")
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)
