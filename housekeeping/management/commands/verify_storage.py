"""Compare storage with the database: objects without rows, rows without objects."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from housekeeping.backups import verify_storage


class Command(BaseCommand):
    help = "Report objects without rows and rows without objects; deletes nothing by default."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--delete-orphans",
            action="store_true",
            help="Delete objects that no row refers to (rows are never deleted).",
        )

    def handle(self, *args, delete_orphans: bool, **options) -> None:
        report = verify_storage(delete_orphans=delete_orphans)
        for name in report.orphans:
            orphans, missing = report.orphans[name], report.missing[name]
            self.stdout.write(
                f"{name}: {len(orphans)} object(s) without a row, "
                f"{len(missing)} row(s) without an object"
            )
            for key in orphans:
                self.stdout.write(f"  orphan{' (deleted)' if delete_orphans else ''}: {key}")
            for key in missing:
                self.stdout.write(f"  missing: {key}")
        if report.clean:
            self.stdout.write(self.style.SUCCESS("Storage and database agree."))
        elif any(report.missing.values()):
            raise CommandError(
                "Some rows point to objects that are missing: restore them from backup."
            )
