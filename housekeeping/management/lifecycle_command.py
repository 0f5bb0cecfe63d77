"""The shape every lifecycle command shares: ``--dry-run`` and a one-line summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class LifecycleCommand(BaseCommand):
    action = None
    noun = ""

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")
        parser.add_argument("--verbose-items", action="store_true", help="List each item.")

    def handle(self, *args, dry_run: bool, verbose_items: bool, **options) -> None:
        summary = self.action(dry_run=dry_run)
        if verbose_items:
            for item in summary.items:
                self.stdout.write(f"  {item}")
        verb = "would affect" if dry_run else "affected"
        self.stdout.write(
            self.style.SUCCESS(
                f"{self.noun}: {verb} {summary.count} item(s), {summary.bytes / 1_048_576:.1f} MB"
            )
        )
