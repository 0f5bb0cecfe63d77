"""GDPR-style export of a user's or an agency's data: account.json + originals + results."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency, User
from housekeeping.backups import export_account_data
from photolisting.cli import progress_bar


class Command(BaseCommand):
    help = "Write one user's or agency's data (metadata JSON and every stored photo) to a ZIP."

    def add_arguments(self, parser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="The user's email address.")
        who.add_argument("--agency", help="The agency's slug.")
        parser.add_argument("--out", required=True, help="Path of the ZIP to write.")

    def handle(self, *args, user: str | None, agency: str | None, out: str, **options) -> None:
        subject = {}
        if user:
            subject["user"] = User.objects.filter(email__iexact=user).first()
        else:
            subject["agency"] = Agency.objects.filter(slug=agency).first()
        if not any(subject.values()):
            raise CommandError(f"No such {'user' if user else 'agency'}: {user or agency}")
        started = time.monotonic()

        def show(done: int, total: int) -> None:
            sys.stderr.write(progress_bar(done, total, "files", started))

        count = export_account_data(out=Path(out), progress=show, **subject)
        sys.stderr.write("\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: account.json and {count} file(s)."))
