"""allauth's e-mails speak of PhotoListing at SITE_URL, not of whatever host the request used."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

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
