"""``manage.py send_daily_report [--day YYYY-MM-DD]``: e-mail the daily report to staff now."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from backoffice.reports import daily_report_send


class Command(BaseCommand):
    help = "E-mail the daily usage report (yesterday by default) to active staff."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, day: str | None, **options) -> None:
        try:
            when = date.fromisoformat(day) if day else None
        except ValueError as error:
            raise CommandError(f"--day is YYYY-MM-DD: {error}") from error
        self.stdout.write(f"Report sent to {daily_report_send(day=when)} address(es).")
