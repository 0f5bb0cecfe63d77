"""``manage.py aggregate_usage --since 2026-01-01``: rebuild the daily aggregates (idempotent)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.aggregates import usage_aggregate


class Command(BaseCommand):
    help = "Rebuild daily usage aggregates from the raw events, from --since to today."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="first day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")

    def handle(self, *args, since: str | None, until: str | None, **options) -> None:
        try:
            first = date.fromisoformat(since) if since else None
            last = date.fromisoformat(until) if until else None
        except ValueError as error:
            raise CommandError(f"Dates are YYYY-MM-DD: {error}") from error
        first = first or timezone.localdate() - timedelta(days=1)
        result = usage_aggregate(since=first, until=last)
        if result.skipped_before:
            self.stderr.write(
                f"Raw events before {result.skipped_before} were pruned; "
                "their aggregates were kept as they are."
            )
        self.stdout.write(f"{result.days} day(s) rebuilt, {result.rows} aggregate row(s).")
