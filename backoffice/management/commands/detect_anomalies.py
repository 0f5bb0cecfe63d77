"""``manage.py detect_anomalies [--day YYYY-MM-DD]``: run anomaly detection now."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from backoffice.monitors import anomalies_detect


class Command(BaseCommand):
    help = "Detect usage anomalies (today by default), store them and notify staff of new ones."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, day: str | None, **options) -> None:
        try:
            when = date.fromisoformat(day) if day else None
        except ValueError as error:
            raise CommandError(f"--day is YYYY-MM-DD: {error}") from error
        result = anomalies_detect(day=when)
        for anomaly in result.found:
            self.stdout.write(f"[{anomaly.severity}] {anomaly.summary}")
        self.stdout.write(
            f"{len(result.found)} anomaly(ies), {len(result.new)} new, {result.notified} notified."
        )
