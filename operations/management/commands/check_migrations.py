"""``manage.py check_migrations``: CI's gate for rolling deploys (operations/migration_safety.py).
Exits 1 naming each migration that drops or renames a column or table the running release still
uses, unless the migration declares itself a contract step."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.migration_safety import unsafe_migrations


class Command(BaseCommand):
    help = "Flags migrations unsafe while the previous release still runs (expand/contract)."

    def handle(self, *args, **options) -> None:
        ours = [
            config.label
            for config in apps.get_app_configs()
            if config.path.startswith(str(settings.BASE_DIR)) and ".venv" not in config.path
        ]
        findings = unsafe_migrations(ours)
        for finding in findings:
            self.stderr.write(f"  {finding}")
        if findings:
            raise CommandError(
                f"{len(findings)} migration operation(s) would break the running release. "
                "Expand first (nullable or db_default), ship the code, contract in a later "
                'release with contract = "why nothing uses it" on the Migration class.'
            )
        self.stdout.write(self.style.SUCCESS(f"migrations safe for a rolling deploy ({ours})"))
