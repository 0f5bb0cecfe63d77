"""Finds photos stuck in ingest: queues each again once, then marks it failed. Beat runs it
every five minutes; --dry-run only reports."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from projects.services import photos_sweep_stuck


class Command(BaseCommand):
    help = (
        "Photos still uploaded/processing past PHOTO_INGEST_DEADLINE are queued again once, "
        "then marked failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        result = photos_sweep_stuck(dry_run=dry_run)
        for photo_id in result.requeued:
            self.stdout.write(f"  queue again  {photo_id}")
        for photo_id in result.failed:
            self.stdout.write(f"  fail         {photo_id}")
        verb = "would queue" if dry_run else "queued"
        self.stdout.write(
            self.style.SUCCESS(
                f"sweep_stuck_photos: {verb} {len(result.requeued)} again, "
                f"{'would fail' if dry_run else 'failed'} {len(result.failed)} "
                f"(deadline {settings.PHOTO_INGEST_DEADLINE} s)"
            )
        )
