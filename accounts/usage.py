"""Usage events of accounts (analytics): sign-ups and log-ins, whichever way they happen
(browser, app API, social), answered from allauth's own signals."""

from __future__ import annotations

from allauth.account.signals import user_logged_in, user_signed_up

from accounts.models import User
from analytics.events import Kind, record


def record_signup(sender, request, user: User, **kwargs) -> None:
    record(Kind.SIGNUP, user_id=user.pk)


def record_login(sender, request, user: User, **kwargs) -> None:
    record(Kind.LOGIN, user_id=user.pk)


def connect() -> None:
    user_signed_up.connect(record_signup, dispatch_uid="analytics-signup")
    user_logged_in.connect(record_login, dispatch_uid="analytics-login")
