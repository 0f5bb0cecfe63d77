"""allauth's e-mails speak of PhotoListing at SITE_URL, not of whatever host the request used;
password logins (browser, app clients and the admin) go through the login backoff."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django.conf import settings
from django.http import HttpRequest

from accounts.login_backoff import login_failed, login_succeeded, login_wait

PRODUCT_NAME = "PhotoListing"


@dataclass(frozen=True)
class Site:
    """What allauth's templates read as ``current_site``."""

    name: str
    domain: str


def product_site() -> Site:
    return Site(name=PRODUCT_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def format_email_subject(self, subject: str) -> str:
        return f"[{PRODUCT_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {**context, "current_site": product_site()})

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        """A try during a backoff is refused before its password is checked."""
        wait = login_wait(ip=self.get_client_ip(request), email=credentials.get("email", ""))
        if wait:
            response = respond_429(request)
            response["Retry-After"] = str(wait)
            raise ImmediateHttpResponse(response)

    def authenticate(self, request: HttpRequest, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_succeeded(email=credentials.get("email", ""))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        login_failed(ip=self.get_client_ip(request), email=credentials.get("email", ""))
