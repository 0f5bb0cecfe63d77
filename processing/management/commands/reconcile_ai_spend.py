"""Compares a day's recorded AI provider spend with the result cache and the provider's own usage
numbers (``OPENAI_ADMIN_KEY``); exits non-zero when they differ. Beat runs it daily."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from processing.providers import get_provider
from processing.spend import spend_reconcile


class Command(BaseCommand):
    help = "Reconcile a day's AI provider spend: ledger vs result cache vs the provider's numbers."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--day", type=date.fromisoformat, help="YYYY-MM-DD (default: yesterday)"
        )

    def handle(self, *args, day: date | None, **options) -> None:
        day = day or timezone.localdate() - timedelta(days=1)
        report = spend_reconcile(day=day, provider=get_provider())
        provider = (
            f"{report.provider_calls} calls, {report.provider_cost:.2f} USD"
            if report.provider_cost is not None
            else "not read (no OPENAI_ADMIN_KEY)"
        )
        self.stdout.write(
            f"{day}: recorded {report.recorded_calls} calls, {report.recorded_cost:.2f} USD; "
            f"cache {report.cache_calls} answers, {report.cache_cost:.2f} USD; provider {provider}"
        )
        for difference in report.differences:
            self.stderr.write(
                f"difference against {difference['against']}: {difference['calls']:+d} calls, "
                f"{difference['cost']} USD"
            )
        if report.differences:
            raise CommandError("AI spend does not reconcile")
        self.stdout.write(self.style.SUCCESS("AI spend reconciles to the cent"))
