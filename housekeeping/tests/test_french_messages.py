"""The inactive-account notice goes out in the site's language (no request tells the reader's)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "subject", "opening"),
    [
        ("fr", "PhotoListing : votre compte va être supprimé", "Vous n’avez pas utilisé"),
        ("en", "PhotoListing: your account will be deleted", "You have not used"),
    ],
)
def test_inactivity_notice_in_the_site_language(settings, language, subject, opening):
    settings.LANGUAGE_CODE = language
    start = timezone.now().replace(month=1, day=10)
    with time_machine.travel(start, tick=False):
        leaving = UserFactory(last_login=start)
    with time_machine.travel(start + timedelta(days=366), tick=False):
        call_command("notify_inactive_accounts", stdout=StringIO())
    (notice,) = mail.outbox
    assert notice.to == [leaving.email]
    assert notice.subject == subject
    assert notice.body.startswith(opening)
    month = "janvier" if language == "fr" else "January"
    assert f"10 {month} {start.year}" in notice.body
